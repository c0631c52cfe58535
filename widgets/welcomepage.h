#pragma once
// What an empty window shows: how to open a file, the recent files, the demo.
#include <QWidget>

class QLabel;
class QListWidget;

namespace te {

class WelcomePage : public QWidget {
    Q_OBJECT
public:
    explicit WelcomePage(QWidget *parent = nullptr);
    void setRecentFiles(const QStringList &files);
    // A file that could not be opened: what it is and what to do, above everything else,
    // until the next file opens.
    void showProblem(const QString &title, const QString &message);
    void clearProblem();

signals:
    void openRequested();
    void hubRequested();
    void demoRequested();
    void recentRequested(const QString &path);

private:
    QListWidget *m_recent;
    QLabel *m_problem;
};

} // namespace te
