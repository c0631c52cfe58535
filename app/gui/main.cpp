// torch-explorer: the desktop program. Files to open come on the command line;
// --screenshot renders the window once everything has loaded, saves a PNG and exits.
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <cstdio>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("torch-explorer"));
    QApplication::setOrganizationName(QStringLiteral("torch-explorer"));
    QApplication::setApplicationVersion(QStringLiteral(TE_VERSION));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/torch-explorer.svg")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Look inside PyTorch model files without running them."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Files to open."), QStringLiteral("[FILES...]"));
    QCommandLineOption against(QStringLiteral("against"), QStringLiteral("A model to check the weights against."),
                               QStringLiteral("REFERENCE"));
    QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                  QStringLiteral("Render the window after loading, save it as PNG and exit."),
                                  QStringLiteral("PNG"));
    parser.addOption(against);
    parser.addOption(screenshot);
    parser.process(app);

    te::MainWindow window;
    if (parser.isSet(against))
        window.setReference(parser.value(against));
    window.show();
    const QStringList files = parser.positionalArguments();
    if (!files.isEmpty())
        window.openFile(files.first());

    if (parser.isSet(screenshot)) {
        const QString out = parser.value(screenshot);
        auto save = [&window, out] {
            const bool ok = window.grab().save(out, "PNG");
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "could not write", qPrintable(out));
            QApplication::exit(ok ? 0 : 1);
        };
        if (files.isEmpty()) {
            QTimer::singleShot(300, &window, save);
        } else {
            // Wait until the file is shown and the first tensor's statistics are in.
            QObject::connect(&window, &te::MainWindow::idle, &window, [save] { QTimer::singleShot(300, save); });
            QTimer::singleShot(60000, &window, save); // never hang a documentation build
        }
    }
    return QApplication::exec();
}
