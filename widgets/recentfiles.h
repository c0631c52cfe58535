#pragma once
// The files opened lately, newest first: kept in the settings, offered as a menu (File →
// Open recent, and the toolbar's Open button) and handed to whoever lists them elsewhere
// (the welcome page).
#include <QObject>
#include <QStringList>

class QMenu;
class QWidget;

namespace te {

class RecentFiles : public QObject {
    Q_OBJECT
public:
    // The menu is made here, titled `title`, owned by `menuParent`.
    RecentFiles(const QString &title, QWidget *menuParent);

    QMenu *menu() const { return m_menu; }
    const QStringList &files() const { return m_files; }
    // Puts a path first (once), keeps the newest twelve and saves them.
    void add(const QString &path);
    // Reads the list saved in the settings.
    void load();

signals:
    void openRequested(const QString &path);
    void changed(const QStringList &files);

private:
    void rebuild();

    QMenu *m_menu;
    QStringList m_files;
};

} // namespace te
