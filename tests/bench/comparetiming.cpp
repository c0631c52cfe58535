// Times what the Compare tab does before it shows anything: lining up the keys of two
// opened files, comparing keys, shapes and dtypes, and building the union tree; against
// opening both files (the reads the window has already done). Then the tab itself, from
// being given both files to showing the keys (its comparisonReady), values left to come.
// Best of five (three for the tab); prints {"open_ms": ..., "keys_ms": ..., "panel_ms":
// ..., "rows": ...} for tests/bench/bench.py. Offscreen.
#include "core/diagnose/documentdiff.h"
#include "core/formats/documentreader.h"
#include "widgets/comparemodel.h"
#include "widgets/comparepanel.h"

#include <QApplication>
#include <QEventLoop>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>

namespace {

template <typename F> double bestMs(F f)
{
    double best = 1e300;
    for (int i = 0; i < 5; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best =
            std::min(best, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: comparetiming A B\n");
        return 2;
    }
    std::shared_ptr<const te::Document> a, b;
    const double openMs = bestMs([&] {
        a = te::readDocument(argv[1]);
        b = te::readDocument(argv[2]);
    });
    te::CompareModel model;
    const double keysMs = bestMs([&] { model.setDiff(te::diffKeys(*a, *b, te::alignKeys(*a, *b))); });
    // Its parts: lining up, the key comparison, the tree.
    te::KeyAlignment alignment;
    te::DocumentDiff diff;
    const double alignMs = bestMs([&] { alignment = te::alignKeys(*a, *b); });
    const double diffMs = bestMs([&] { diff = te::diffKeys(*a, *b, alignment); });
    const double treeMs = bestMs([&] { model.setDiff(diff); });
    double panelMs = 1e300;
    for (int i = 0; i < 3; ++i) {
        te::ComparePanel panel;
        panel.resize(900, 600);
        panel.show();
        QEventLoop shown;
        QObject::connect(&panel, &te::ComparePanel::comparisonReady, &shown, &QEventLoop::quit);
        QTimer::singleShot(60000, &shown, &QEventLoop::quit); // never hang a benchmark
        const auto start = std::chrono::steady_clock::now();
        panel.setDocumentA(a);
        panel.compareWithDocument(b);
        shown.exec();
        panelMs = std::min(panelMs,
                           std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        panel.stop(); // the values are not what is timed
    }
    std::printf("{\"open_ms\": %.3f, \"keys_ms\": %.3f, \"align_ms\": %.3f, \"diff_ms\": %.3f, \"tree_ms\": %.3f, "
                "\"panel_ms\": %.3f, \"rows\": %zu}\n",
                openMs, keysMs, alignMs, diffMs, treeMs, panelMs, model.diff()->common.size());
    return 0;
}
