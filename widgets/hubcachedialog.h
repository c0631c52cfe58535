#pragma once
// "Open from Hugging Face cache": the models of the local hub cache with their revisions,
// sizes and whether each snapshot is complete, searchable; the chosen one opens as a
// model folder. The cache is walked on a worker thread.
#include "core/formats/hubcache.h"

#include <QDialog>

class QLabel;
class QLineEdit;
class QTreeWidget;
class QPushButton;

namespace te {

class JobTracker;

class HubCacheDialog : public QDialog {
    Q_OBJECT
public:
    explicit HubCacheDialog(const QString &root, QWidget *parent = nullptr);
    // The snapshot folder of the selected revision; empty when none is selected.
    QString selectedFolder() const;
    // "org/name@revision" of the selection, for titles and recent files.
    QString selectedSpec() const;
    QTreeWidget *tree() const { return m_tree; }

signals:
    void listed(); // the cache has been read

private:
    void fill(const std::vector<CachedModel> &models);
    void applyFilter();

    QString m_root;
    JobTracker *m_jobs;
    QLineEdit *m_search;
    QTreeWidget *m_tree;
    QLabel *m_status;
    QPushButton *m_open;
};

} // namespace te
