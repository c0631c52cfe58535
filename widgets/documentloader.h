#pragma once
// Reads a document on a worker thread, with progress and cancel; a result from a file the
// user already left is dropped instead of shown (a JobTracker: the latest load wins).
#include "core/document/document.h"
#include "core/document/documenttree.h"

#include <QObject>
#include <QString>
#include <memory>

namespace te {

class JobTracker;

class DocumentLoader : public QObject {
    Q_OBJECT
public:
    explicit DocumentLoader(QObject *parent = nullptr);
    ~DocumentLoader() override;

    // Starts reading; a load still running is cancelled and its result ignored.
    void load(const QString &path);
    void cancel();
    bool isLoading() const;

signals:
    void progress(int percent, const QString &label);
    void loaded(std::shared_ptr<const te::Document> document, std::shared_ptr<const te::TreeNode> tree);
    void failed(const QString &path, const QString &message);
    void cancelled(const QString &path);

private:
    JobTracker *m_jobs;
};

} // namespace te
