#pragma once
// The strip above the tree that says what matters about the open file: red for danger
// (code that loading would run, a file changed on disk), the highlight colour for news.
// The user can dismiss it (its ✕ button, or Esc while it has focus); the next message
// shows it again.
#include <QFrame>

class QLabel;
class QToolButton;

namespace te {

class Banner : public QFrame {
    Q_OBJECT
public:
    explicit Banner(QWidget *parent = nullptr);

    // File names and messages from files are plain text; only our own links are rich.
    void showMessage(const QString &text, bool danger, bool rich = false);
    QString text() const;
    bool isDanger() const { return m_danger; }

signals:
    void linkActivated(const QString &link);

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    QLabel *m_text;
    QToolButton *m_close;
    bool m_danger = false;
};

} // namespace te
