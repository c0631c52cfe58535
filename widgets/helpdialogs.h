#pragma once
// Help → Keyboard shortcuts and Help → About: the one list of the window's keys (the
// README's "Keyboard" table says the same), and the versions the program runs with.
#include <QString>
#include <QStringList>
#include <vector>

class QWidget;

namespace te {

struct KeyboardShortcut {
    QString keys; // as the user types them: "Ctrl+O"
    QString what;
};

const std::vector<KeyboardShortcut> &keyboardShortcuts();

void showKeyboardShortcuts(QWidget *parent);
// Versions of this program, Qt and libtorch (libtorch only once it is loaded: it loads
// when a model first runs, never for opening a file).
QString aboutText();
void showAbout(QWidget *parent);

} // namespace te
