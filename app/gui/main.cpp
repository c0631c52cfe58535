// torch-explorer: the desktop program. Files to open come on the command line;
// --screenshot renders the window once everything has loaded, saves a PNG and exits.
#include "app/gui/mainwindow.h"
#include "core/runtime/runtimeloader.h"
#include "widgets/runpanel.h"

#include <QApplication>
#include <QByteArray>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QPalette>
#include <QStyleFactory>
#include <QTimer>
#include <QTreeView>
#include <cstdio>
#include <map>
#include <memory>
#include <string>

namespace {

// For desktops without a dark theme of their own. Every colour in the window comes from
// the palette, so this is all it takes.
void applyDarkPalette()
{
    QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
    QPalette p;
    const QColor window(45, 45, 48), base(30, 30, 32), text(220, 220, 220), disabled(130, 130, 130);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(100, 170, 255));
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150)); // readable on the dark base
    for (auto role : {QPalette::Text, QPalette::WindowText, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    QApplication::setPalette(p);
}

} // namespace

// --timing: when the window showed, when the reader finished, how long showing the
// document and drawing it took, and how long a filter took to apply and draw.
void reportTiming(te::MainWindow &window, QElapsedTimer &clock, const QString &filter)
{
    auto marks = std::make_shared<std::map<std::string, qint64>>();
    (*marks)["window_shown_ms"] = clock.elapsed();
    (*marks)["runtime_loaded"] = te::runtimeLoaded() ? 1 : 0;
    QObject::connect(&window, &te::MainWindow::documentArriving, &window,
                     [marks, &clock] { (*marks)["read_done_ms"] = clock.elapsed(); });
    QObject::connect(&window, &te::MainWindow::documentShown, &window, [marks, &clock, &window, filter] {
        (*marks)["shown_ms"] = clock.elapsed();
        QTimer::singleShot(0, &window, [marks, &clock, &window, filter] {
            // One full paint of the window as it is now, into its own backing store (a grab
            // would paint into a pixmap of its own, which the user's window never makes).
            window.repaint();
            (*marks)["painted_ms"] = clock.elapsed();
            QElapsedTimer f;
            f.start();
            window.setFilterNow(filter);
            window.repaint();
            (*marks)["filter_ms"] = f.elapsed();
            (*marks)["filter_rows"] = window.treeView()->model()->rowCount();
            (*marks)["tensors"] = window.document() ? static_cast<qint64>(window.document()->entries.size()) : -1;
            std::string out = "{";
            for (const auto &[k, v] : *marks)
                out += (out.size() > 1 ? ", \"" : "\"") + k + "\": " + std::to_string(v);
            std::printf("%s}\n", out.c_str());
            std::fflush(stdout);
            QApplication::exit(window.document() ? 0 : 1);
        });
    });
}

namespace {

struct Options {
    QCommandLineOption against{QStringLiteral("against"), QStringLiteral("A model to check the weights against."),
                               QStringLiteral("REFERENCE")};
    QCommandLineOption compare{QStringLiteral("compare"), QStringLiteral("Another file to compare the first with."),
                               QStringLiteral("B")};
    QCommandLineOption screenshot{QStringLiteral("screenshot"),
                                  QStringLiteral("Render the window after loading, save it as PNG and exit."),
                                  QStringLiteral("PNG")};
    QCommandLineOption dark{QStringLiteral("dark"), QStringLiteral("Use a dark colour scheme.")};
    QCommandLineOption run{QStringLiteral("run"),
                           QStringLiteral("Run the model once it is open (runs its TorchScript code).")};
    QCommandLineOption input{
        QStringLiteral("input"),
        QStringLiteral("An input of the Run tab, as the CLI's run --input takes it (image:PATH[:OPTIONS], "
                       "npy:PATH, tensor:FILE#KEY, FILL:SHAPE:DTYPE); once per input."),
        QStringLiteral("SPEC")};
    QCommandLineOption labels{QStringLiteral("labels"),
                              QStringLiteral("Class names for the Run tab's outputs: a labels file or imagenet."),
                              QStringLiteral("FILE")};
    QCommandLineOption weightsB{QStringLiteral("weights-b"),
                                QStringLiteral("A second weight set the Run tab runs on the same inputs."),
                                QStringLiteral("FILE")};
    QCommandLineOption layers{QStringLiteral("layers"), QStringLiteral("Capture every layer's output in the Run tab.")};
    QCommandLineOption timing{QStringLiteral("timing"),
                              QStringLiteral("Open the file, filter the tree for TEXT, print how long each step took "
                                             "as JSON and exit (for the benchmark)."),
                              QStringLiteral("TEXT")};
};

void describe(QCommandLineParser &parser, const Options &o)
{
    parser.setApplicationDescription(QStringLiteral("Look inside PyTorch model files without running them."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Files to open."),
                                 QStringLiteral("[FILES...]"));
    for (const QCommandLineOption *option : {&o.timing, &o.run, &o.input, &o.labels, &o.weightsB, &o.layers, &o.against,
                                             &o.compare, &o.screenshot, &o.dark})
        parser.addOption(*option);
}

// --input, --labels, --weights-b and --layers into the Run tab; what cannot be used is
// said on stderr.
void applyRunSettings(te::MainWindow &window, const QCommandLineParser &parser, const Options &o)
{
    te::RunPanel *panel = window.runPanel();
    QString error;
    const QStringList inputs = parser.values(o.input);
    for (int i = 0; i < inputs.size(); ++i)
        if (!panel->setInputSpec(i, inputs[i], &error))
            std::fprintf(stderr, "torch-explorer: --input %s: %s\n", qPrintable(inputs[i]), qPrintable(error));
    if (parser.isSet(o.labels) && !panel->setLabels(parser.value(o.labels), &error))
        std::fprintf(stderr, "torch-explorer: --labels: %s\n", qPrintable(error));
    if (parser.isSet(o.weightsB))
        panel->setWeightsB(parser.value(o.weightsB));
    if (parser.isSet(o.layers))
        panel->setCaptureLayers(true);
}

void nameApplication()
{
    QCoreApplication::setApplicationName(QStringLiteral("torch-explorer"));
    QCoreApplication::setOrganizationName(QStringLiteral("torch-explorer"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TE_VERSION));
}

// --help and --version need no window: answered before the GUI starts, so they work
// without a display (where QApplication itself would fail).
bool asksForHelpOrVersion(int argc, char **argv)
{
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "--")
            break;
        if (arg == "-h" || arg == "--help" || arg == "-?" || arg == "--help-all" || arg == "-v" || arg == "--version")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char **argv)
{
    const Options options;
    if (asksForHelpOrVersion(argc, argv)) {
        QCoreApplication core(argc, argv);
        nameApplication();
        QCommandLineParser parser;
        describe(parser, options);
        parser.process(core); // prints and exits
        return 0;
    }
    QApplication app(argc, argv);
    nameApplication();
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/torch-explorer.svg")));

    QCommandLineParser parser;
    describe(parser, options);
    parser.process(app);
    const QCommandLineOption &against = options.against, &screenshot = options.screenshot, &dark = options.dark,
                             &runOption = options.run, &timing = options.timing;
    if (parser.isSet(dark))
        applyDarkPalette();

    QElapsedTimer clock;
    clock.start();
    te::MainWindow window;
    if (parser.isSet(screenshot) || parser.isSet(timing))
        window.resize(1200, 760); // the same picture and work whatever the screen (offscreen is small)
    window.show();
    if (parser.isSet(timing))
        reportTiming(window, clock, parser.value(timing));
    const QStringList files = parser.positionalArguments();
    if (!files.isEmpty())
        window.openFile(files.first());
    if (parser.isSet(against))
        window.setReference(parser.value(against));
    if (parser.isSet(options.compare))
        window.compareWith(parser.value(options.compare));
    const bool runSettings = parser.isSet(options.input) || parser.isSet(options.labels) ||
                             parser.isSet(options.weightsB) || parser.isSet(options.layers);
    if (parser.isSet(runOption) || runSettings) {
        // Once the file (and the reference, if any) are in: the Run tab's settings, then
        // the run when asked for; a single shot.
        auto *conn = new QMetaObject::Connection;
        const bool run = parser.isSet(runOption);
        *conn = QObject::connect(&window, &te::MainWindow::idle, &window, [&window, &parser, &options, conn, run] {
            QObject::disconnect(*conn);
            delete conn;
            applyRunSettings(window, parser, options);
            if (run)
                window.runModel();
        });
    }

    if (parser.isSet(screenshot)) {
        const QString out = parser.value(screenshot);
        auto save = [&window, out] {
            if (window.isBusy())
                return; // something started meanwhile (a run); its end brings another idle
            const bool ok = window.grab().save(out, "PNG");
            std::fprintf(ok ? stdout : stderr, "%s %s\n", ok ? "wrote" : "could not write", qPrintable(out));
            QApplication::exit(ok ? 0 : 1);
        };
        if (files.isEmpty()) {
            QTimer::singleShot(300, &window, save);
        } else {
            // Wait until the file is shown and the first tensor's statistics are in.
            QObject::connect(&window, &te::MainWindow::idle, &window, [save] { QTimer::singleShot(300, save); });
            QTimer::singleShot(60000, &window, [&window, out] { // never hang a documentation build
                std::fprintf(stderr, "still busy after 60 s; writing %s anyway\n", qPrintable(out));
                QApplication::exit(window.grab().save(out, "PNG") ? 0 : 1);
            });
        }
    }
    return QApplication::exec();
}
