#pragma once
// What an empty window shows: how to open a file, the recent files, the demo.
#include <QWidget>

class QListWidget;

namespace te {

class WelcomePage : public QWidget {
    Q_OBJECT
public:
    explicit WelcomePage(QWidget *parent = nullptr);
    void setRecentFiles(const QStringList &files);

signals:
    void openRequested();
    void demoRequested();
    void recentRequested(const QString &path);

private:
    QListWidget *m_recent;
};

} // namespace te
