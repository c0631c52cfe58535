// Scrolls the key alignment of a checkpoint against its model page by page, painting each
// step at once, and the Load report's table of the same report the same way; then scrolls
// each again through the event loop (a step per turn, painted by the loop) and measures the
// longest gap between two turns: what a user would feel as a stall. Prints {"view_max_ms",
// "view_mean_ms", "table_max_ms", "table_mean_ms", "view_gap_ms", "table_gap_ms",
// "layout_ms", "rows"} for tests/bench/bench.py. Offscreen.
#include "core/diagnose/loaddiagnosis.h"
#include "core/formats/documentreader.h"
#include "widgets/keyalignmentview.h"
#include "widgets/loadreportmodel.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QScrollBar>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>

namespace {

// Pages down the whole way in `steps` steps; the longest and the mean paint, in ms.
std::pair<double, double> scroll(QAbstractScrollArea *area, int steps)
{
    QScrollBar *bar = area->verticalScrollBar();
    double longest = 0, total = 0;
    for (int i = 0; i <= steps; ++i) {
        QElapsedTimer t;
        t.start();
        bar->setValue(static_cast<int>(static_cast<long long>(bar->maximum()) * i / steps));
        area->viewport()->repaint();
        const double ms = static_cast<double>(t.nsecsElapsed()) / 1e6;
        longest = std::max(longest, ms);
        total += ms;
    }
    return {longest, total / (steps + 1)};
}

// Scrolls the whole way in `steps` steps of the event loop: each turn moves the bar and asks
// for a paint, which the loop does before the next turn. The longest time between two
// turns, in ms.
double longestGap(QAbstractScrollArea *area, int steps)
{
    QScrollBar *bar = area->verticalScrollBar();
    bar->setValue(0);
    QApplication::processEvents();
    QElapsedTimer clock;
    clock.start();
    qint64 last = clock.nsecsElapsed(), longest = 0;
    int step = 0;
    QTimer turn;
    turn.setInterval(0);
    QObject::connect(&turn, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        longest = std::max(longest, now - last);
        last = now;
        if (++step > steps) {
            turn.stop();
            QApplication::exit(0);
            return;
        }
        bar->setValue(static_cast<int>(static_cast<long long>(bar->maximum()) * step / steps));
        area->viewport()->update();
    });
    turn.start();
    QApplication::exec();
    return static_cast<double>(longest) / 1e6;
}

} // namespace

int main(int argc, char **argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    if (argc != 3) {
        std::fprintf(stderr, "usage: alignmentscroll WEIGHTS MODEL\n");
        return 2;
    }
    const auto weights = te::readDocument(argv[1]), reference = te::readDocument(argv[2]);
    const auto model = std::make_shared<te::ExpectedModel>(te::expectedModelFrom(*reference));
    const auto source =
        std::make_shared<te::WeightsSource>(te::weightsFrom(*weights, te::candidateStateDicts(*weights).front()));
    const auto report = std::make_shared<te::LoadReport>(te::diagnoseLoad(*weights, source->stateDict, *model, {}));

    te::KeyAlignmentView view;
    view.resize(480, 600);
    // Laid out as the Load report does it, on its worker: timed apart from the scrolling.
    QElapsedTimer t;
    t.start();
    const auto laidOut = std::make_shared<te::AlignmentLayout>(te::layoutAlignment(*report, *model, *source, {}));
    const double layoutMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    view.setReport(report, model, source, {}, laidOut);
    view.show();
    QApplication::processEvents();
    const auto [viewMax, viewMean] = scroll(&view, 300);
    const double viewGap = longestGap(&view, 300);

    te::LoadReportModel rows;
    rows.setReport(*report, *model, *source);
    QTableView table;
    table.setModel(&rows);
    table.resize(480, 600);
    table.show();
    QApplication::processEvents();
    const auto [tableMax, tableMean] = scroll(&table, 300);
    const double tableGap = longestGap(&table, 300);
    std::printf("{\"view_max_ms\": %.3f, \"view_mean_ms\": %.3f, \"table_max_ms\": %.3f, \"table_mean_ms\": %.3f, "
                "\"view_gap_ms\": %.3f, \"table_gap_ms\": %.3f, \"layout_ms\": %.3f, \"rows\": %zu}\n",
                viewMax, viewMean, tableMax, tableMean, viewGap, tableGap, layoutMs,
                std::max(view.layout().left.size(), view.layout().right.size()));
    return 0;
}
