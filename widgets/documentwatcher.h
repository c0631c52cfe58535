#pragma once
// Watches the files an open document maps (the file, or a folder's shards) and says when
// one is deleted or rewritten underneath it: a training run saving its checkpoint again
// truncates the file, and the values read after that are not the ones that were opened.
#include "core/document/document.h"

#include <QObject>
#include <memory>

class QFileSystemWatcher;
class QTimer;

namespace te {

class DocumentWatcher : public QObject {
    Q_OBJECT
public:
    explicit DocumentWatcher(QObject *parent = nullptr);

    // Starts watching this document's files (null: stop watching).
    void watch(std::shared_ptr<const Document> doc);

signals:
    void deleted(); // the file is gone; its mapped bytes stay readable
    void changed(); // rewritten: size or modification time differ, or a read hit its end

private:
    void check();

    QFileSystemWatcher *m_watcher;
    QTimer *m_settle;
    std::shared_ptr<const Document> m_doc;
};

} // namespace te
