#pragma once
// Reads a document on a worker thread: progress, cancel, and a generation counter so a
// result from a file the user already left is dropped instead of shown.
#include "core/document/document.h"
#include "core/document/documenttree.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <atomic>
#include <memory>

namespace te {

struct LoadResult {
    std::shared_ptr<const Document> document;
    std::shared_ptr<const TreeNode> tree; // built on the worker too: the GUI thread only shows it
    QString path;
    QString error;
    bool cancelled = false;
    quint64 generation = 0;
};

class DocumentLoader : public QObject {
    Q_OBJECT
public:
    explicit DocumentLoader(QObject *parent = nullptr);
    ~DocumentLoader() override;

    // Starts reading; a load still running is cancelled and its result ignored.
    void load(const QString &path);
    void cancel();
    bool isLoading() const { return m_loading; }

signals:
    void progress(int percent, const QString &label);
    void loaded(std::shared_ptr<const te::Document> document, std::shared_ptr<const te::TreeNode> tree);
    void failed(const QString &path, const QString &message);
    void cancelled(const QString &path);

private:
    void onFinished(QFutureWatcher<LoadResult> *watcher);

    quint64 m_generation = 0;
    bool m_loading = false;
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

} // namespace te
