#pragma once
// "Open from Hugging Face Hub": a model's name (or its page's address) and revision, the
// revision's files with their sizes and whether each is cached, then either Open (read
// over the network, only the bytes needed; the cache first when it has the model) or
// Download (the files ticked, into the local hub cache, resumable, with progress and
// cancel). Listing and downloading run on worker threads.
#include "core/hub/hubclient.h"

#include <QDialog>
#include <memory>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QTreeWidget;
class QTreeWidgetItem;

namespace te {

class JobTracker;

class HubDialog : public QDialog {
    Q_OBJECT
public:
    explicit HubDialog(QWidget *parent = nullptr);

    // What to open once accepted: hf:org/name[@rev], or one file of it.
    QString reference() const { return m_reference; }
    void setModel(const QString &text);
    void list();     // as the List files button does
    void download(); // as the Download button does
    QTreeWidget *files() const { return m_files; }
    QString status() const;

signals:
    void listed();     // a listing arrived (or failed: status() says why)
    void downloaded(); // a download ended (done, failed or cancelled)

private:
    // The model and revision typed in; false (and the status says why) when not valid.
    bool typedReference(HubRef *ref);
    void showListing(const HubListing &listing);
    void updateButtons();
    void openSelection(QTreeWidgetItem *item);
    std::vector<std::string> tickedFiles() const;

    HubSettings m_settings;
    std::shared_ptr<const HubListing> m_listing;
    QString m_reference;
    JobTracker *m_listJobs;
    JobTracker *m_downloadJobs;
    QLineEdit *m_model;
    QLineEdit *m_revision;
    QPushButton *m_list;
    QTreeWidget *m_files;
    QLabel *m_status;
    QProgressBar *m_progress;
    QPushButton *m_download;
    QPushButton *m_cancel;
    QPushButton *m_open;
};

} // namespace te
