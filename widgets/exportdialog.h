#pragma once
// File → Export state dict…: the open model's tensors (all of them, or one state dict
// without its prefix) written as a file torch.load reads, one safetensors file, or a
// safetensors folder in save_pretrained's layout, on a worker with progress and a stop
// button. Any readable source works, a distributed checkpoint included.
#include "widgets/jobtracker.h"

#include <QDialog>
#include <memory>

class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace te {

struct Document;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // `base`: the folder and name the target is suggested from (the open file's path).
    ExportDialog(std::shared_ptr<const Document> doc, const QString &base, QWidget *parent = nullptr);

    // What the last export wrote (empty until one succeeded).
    QStringList writtenFiles() const { return m_written; }

private:
    void updateChoices();
    void browse();
    void startExport();
    void finished(bool ok, const QString &message, const QStringList &files);

    std::shared_ptr<const Document> m_doc;
    QString m_base;
    QComboBox *m_stateDict;
    QComboBox *m_format;
    QLineEdit *m_shardSize;
    QLineEdit *m_target;
    QLabel *m_summary;
    QLabel *m_status;
    QProgressBar *m_progress;
    QPushButton *m_export;
    QPushButton *m_stop;
    QPushButton *m_close;
    JobTracker m_job;
    QStringList m_written;
};

} // namespace te
