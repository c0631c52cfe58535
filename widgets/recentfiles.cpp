#include "widgets/recentfiles.h"

#include <QMenu>
#include <QSettings>

namespace te {
namespace {

const QString kKey = QStringLiteral("recentFiles");
constexpr int kKept = 12;

} // namespace

RecentFiles::RecentFiles(const QString &title, QWidget *menuParent)
    : QObject(menuParent)
    , m_menu(new QMenu(title, menuParent))
{
    rebuild();
}

void RecentFiles::add(const QString &path)
{
    m_files.removeAll(path);
    m_files.prepend(path);
    while (m_files.size() > kKept)
        m_files.removeLast();
    QSettings().setValue(kKey, m_files);
    rebuild();
}

void RecentFiles::load()
{
    m_files = QSettings().value(kKey).toStringList();
    rebuild();
}

void RecentFiles::rebuild()
{
    m_menu->clear();
    for (const QString &f : m_files)
        m_menu->addAction(f, this, [this, f] { emit openRequested(f); });
    // The menu stays enabled (a disabled one would grey out the toolbar's Open button it
    // hangs from) and says why it is empty.
    if (m_files.isEmpty())
        m_menu->addAction(tr("No recent files"))->setEnabled(false);
    emit changed(m_files);
}

} // namespace te
