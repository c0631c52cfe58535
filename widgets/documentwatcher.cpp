#include "widgets/documentwatcher.h"

#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>

namespace te {

DocumentWatcher::DocumentWatcher(QObject *parent)
    : QObject(parent)
    , m_watcher(new QFileSystemWatcher(this))
    , m_settle(new QTimer(this))
{
    // A save arrives as several events; look once it has settled.
    m_settle->setSingleShot(true);
    m_settle->setInterval(300);
    connect(m_watcher, &QFileSystemWatcher::fileChanged, m_settle, qOverload<>(&QTimer::start));
    connect(m_settle, &QTimer::timeout, this, &DocumentWatcher::check);
}

void DocumentWatcher::watch(std::shared_ptr<const Document> doc)
{
    if (!m_watcher->files().isEmpty())
        m_watcher->removePaths(m_watcher->files());
    m_doc = std::move(doc);
    if (!m_doc)
        return;
    QStringList files;
    if (m_doc->file && !m_doc->file->path().empty())
        files << QString::fromStdString(m_doc->file->path());
    for (const auto &part : m_doc->parts)
        if (part && part->file)
            files << QString::fromStdString(part->file->path());
    files.removeDuplicates();
    for (const QString &f : files)
        if (QFileInfo(f).isFile())
            m_watcher->addPath(f);
}

void DocumentWatcher::check()
{
    if (!m_doc)
        return;
    std::vector<const MappedFile *> files;
    if (m_doc->file)
        files.push_back(m_doc->file.get());
    for (const auto &part : m_doc->parts)
        if (part && part->file)
            files.push_back(part->file.get());
    bool gone = false, rewritten = false;
    for (const MappedFile *f : files) {
        if (f->path().empty())
            continue;
        gone |= !QFileInfo::exists(QString::fromStdString(f->path()));
        rewritten |= f->changedOnDisk();
    }
    if (rewritten)
        emit changed();
    else if (gone)
        emit deleted();
}

} // namespace te
