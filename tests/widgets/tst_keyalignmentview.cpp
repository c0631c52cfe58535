// The key alignment of the Load report: a line for every pair the report loads, red ones
// for shape mismatches, dashed ones for what the best suggested rule would pair, keys
// without a partner marked, modules that load whole as one band each side; hovering a line
// names both keys and shapes, and a click opens a band.
#include "widgets/keyalignmentview.h"

#include "core/diagnose/loaddiagnosis.h"
#include "core/formats/documentreader.h"

#include <QtTest>

using namespace te;

namespace {

struct Check {
    std::shared_ptr<const Document> weights, model;
    ExpectedModel expected;
    WeightsSource source;
    LoadReport report;
};

Check check(const char *weights, const char *model, const std::vector<RemapRule> &rules = {})
{
    Check c;
    c.weights = readDocument(std::string(TE_FIXTURES_DIR) + "/" + weights);
    c.model = readDocument(std::string(TE_FIXTURES_DIR) + "/" + model);
    c.expected = expectedModelFrom(*c.model);
    c.source = weightsFrom(*c.weights, candidateStateDicts(*c.weights).front());
    c.report = diagnoseLoad(*c.weights, c.source.stateDict, c.expected, rules);
    return c;
}

size_t count(const AlignmentLayout &l, AlignmentLayout::LinkKind kind)
{
    return static_cast<size_t>(
        std::count_if(l.links.begin(), l.links.end(), [kind](const auto &x) { return x.kind == kind; }));
}

// Keys behind the links of a kind (a band's line stands for all its keys).
size_t keysOf(const AlignmentLayout &l, AlignmentLayout::LinkKind kind)
{
    size_t n = 0;
    for (const auto &x : l.links)
        n += x.kind == kind ? size_t(x.keys) : 0;
    return n;
}

// Model keys that receive a value from a key of the file (not filled in by the module).
size_t loadedFromTheFile(const LoadReport &r)
{
    return static_cast<size_t>(std::count_if(r.sources.begin(), r.sources.end(),
                                             [](const auto &s) { return s.second.rfind("(filled", 0) != 0; }));
}

size_t unmatched(const std::vector<AlignmentLayout::Row> &rows)
{
    return static_cast<size_t>(std::count_if(rows.begin(), rows.end(), [](const AlignmentLayout::Row &r) {
        return r.mark == AlignmentLayout::Mark::Unmatched;
    }));
}

} // namespace

class TestKeyAlignmentView : public QObject {
    Q_OBJECT
private slots:
    // Missing, unexpected and a shape mismatch: every key of both sides is a row.
    void mismatches()
    {
        const Check c = check("mismatch_weights.pt", "mismatch_model.pt");
        QVERIFY(!c.report.shapeMismatch.empty() && !c.report.missing.empty() && !c.report.unexpected.empty());
        const AlignmentLayout l = layoutAlignment(c.report, c.expected, c.source, {}, {"*"});
        QCOMPARE(count(l, AlignmentLayout::LinkKind::ShapeMismatch), c.report.shapeMismatch.size());
        for (const auto &link : l.links)
            if (link.kind == AlignmentLayout::LinkKind::ShapeMismatch) {
                const std::string &key = l.right[size_t(link.right)].text;
                QVERIFY(std::any_of(c.report.shapeMismatch.begin(), c.report.shapeMismatch.end(),
                                    [&](const ShapeMismatch &s) { return s.key == key; }));
            }
        const size_t suggested = count(l, AlignmentLayout::LinkKind::Suggested);
        QCOMPARE(unmatched(l.right), c.report.missing.size() - suggested);
        QCOMPARE(unmatched(l.left), c.report.unexpected.size() - suggested);
        QCOMPARE(keysOf(l, AlignmentLayout::LinkKind::Loads), loadedFromTheFile(c.report));
    }

    // The doctor's prefix rule: dashed before it is applied, every key loading after.
    void suggestionDashedThenSolid()
    {
        const Check before = check("dataparallel_state_dict.pt", "scripted.pt");
        QVERIFY(!before.report.suggestions.empty());
        AlignmentLayout l = layoutAlignment(before.report, before.expected, before.source, {});
        QCOMPARE(count(l, AlignmentLayout::LinkKind::Loads), size_t(0));
        QVERIFY(!l.suggestion.empty());
        const std::vector<RemapRule> rules{before.report.suggestions.front().rule};
        const Check after = check("dataparallel_state_dict.pt", "scripted.pt", rules);
        // Every key the rule makes load was a dashed line before.
        QCOMPARE(count(l, AlignmentLayout::LinkKind::Suggested), loadedFromTheFile(after.report));
        QCOMPARE(unmatched(l.left), size_t(0));
        l = layoutAlignment(after.report, after.expected, after.source, rules);
        QCOMPARE(count(l, AlignmentLayout::LinkKind::Suggested), size_t(0));
        QCOMPARE(keysOf(l, AlignmentLayout::LinkKind::Loads), loadedFromTheFile(after.report));
        QCOMPARE(unmatched(l.left), size_t(0));
        QCOMPARE(unmatched(l.right), after.report.missing.size()); // "scale", which no file has
    }

    // Modules that load whole are one band each; opening one shows its keys.
    void bandsAndHover()
    {
        const Check c = check("state_dict.pt", "scripted.pt");
        KeyAlignmentView view;
        view.resize(700, 400);
        view.show();
        view.setReport(std::make_shared<LoadReport>(c.report), std::make_shared<ExpectedModel>(c.expected),
                       std::make_shared<WeightsSource>(c.source), {});
        const AlignmentLayout &l = view.layout();
        QCOMPARE(l.left.size(), size_t(3));  // conv, bn, fc
        QCOMPARE(l.right.size(), size_t(4)); // and the model's own "scale", which no file has
        QCOMPARE(unmatched(l.right), size_t(1));
        int keys = 0;
        for (const auto &link : l.links)
            keys += link.keys;
        QCOMPARE(size_t(keys), loadedFromTheFile(c.report));
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.viewport()->repaint();
        // The middle of the conv band's line (a curve, symmetric about it): both module names.
        const auto &first = l.links[size_t(l.leftLinks[0].front())];
        const int y = int(1.5 * view.rowHeight()),
                  middle = int((first.left + first.right + 3) * view.rowHeight() / 2.0);
        const QString tip = view.describeAt(QPoint(view.viewport()->width() / 2, middle));
        QVERIFY2(tip.contains(QStringLiteral("conv")) && tip.contains(QStringLiteral("load")), qPrintable(tip));
        QVERIFY(view.describeAt(QPoint(view.viewport()->width() / 2, view.viewport()->height() - 2)).isEmpty());
        // A click on the conv band opens it: a group row for the module, its two keys under
        // it, each with its line.
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(20, y));
        QCOMPARE(view.layout().left.size(), size_t(5));
        QCOMPARE(view.layout().left[0].mark, AlignmentLayout::Mark::Group);
        QCOMPARE(view.layout().left[0].text, std::string("conv"));
        QCOMPARE(view.layout().left[1].text, std::string("conv.weight"));
        QCOMPARE(view.layout().left[1].depth, 1);
        QVERIFY(view.layout().leftLinks[0].empty());
        view.viewport()->repaint();
        const auto &weight = view.layout().links[size_t(view.layout().leftLinks[1].front())];
        const QString one = view.describeAt(
            QPoint(view.viewport()->width() / 2, int((weight.left + weight.right + 3) * view.rowHeight() / 2.0)));
        QVERIFY2(one.contains(QStringLiteral("conv.weight")) && one.contains(QStringLiteral("[8, 3, 3, 3]")),
                 qPrintable(one));
        // A click on one of its keys, or on its group row, on either side closes the band.
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(20, int(2.5 * view.rowHeight())));
        QCOMPARE(view.layout().left.size(), size_t(3));
        QCOMPARE(view.layout().left[0].mark, AlignmentLayout::Mark::Band);
        int band = 0;
        while (view.layout().right[size_t(band)].mark != AlignmentLayout::Mark::Band)
            ++band;
        const int right = view.viewport()->width() - 20, bandY = int((band + 1.5) * view.rowHeight());
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(right, bandY));
        QCOMPARE(view.layout().right.size(), size_t(6)); // opened from the model's side
        QCOMPARE(view.layout().right[size_t(band)].mark, AlignmentLayout::Mark::Group);
        QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(right, bandY)); // its group row
        QCOMPARE(view.layout().right.size(), size_t(4));
    }

    // A whole subtree that loads is one band, the largest one: a BERT's embeddings,
    // encoder and pooler. Opening the encoder shows the bands a level down, then its
    // layers; a click on a key closes the innermost band opened around it.
    void subtreesBandWhole()
    {
        const Check c = check("hf/tiny_bert_bin", "hf/tiny_bert");
        KeyAlignmentView view;
        view.resize(700, 400);
        view.show();
        view.setReport(std::make_shared<LoadReport>(c.report), std::make_shared<ExpectedModel>(c.expected),
                       std::make_shared<WeightsSource>(c.source), {});
        auto rows = [&view](bool left) {
            QStringList out;
            for (const auto &r : left ? view.layout().left : view.layout().right)
                out << QStringLiteral("%1%2 %3")
                           .arg(r.mark == AlignmentLayout::Mark::Band    ? QStringLiteral("=")
                                : r.mark == AlignmentLayout::Mark::Group ? QStringLiteral("+")
                                                                         : QString())
                           .arg(QString::fromStdString(r.text))
                           .arg(r.keys);
            return out.join(QLatin1Char('|'));
        };
        QCOMPARE(rows(false), QStringLiteral("=embeddings 5|=encoder 32|=pooler 2"));
        QCOMPARE(rows(true), rows(false));
        QCOMPARE(keysOf(view.layout(), AlignmentLayout::LinkKind::Loads), size_t(39));
        QCOMPARE(view.layout().links.size(), size_t(3));
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const int right = view.viewport()->width() - 20;
        auto clickRow = [&](int row) {
            QTest::mouseClick(view.viewport(), Qt::LeftButton, {}, QPoint(right, int((row + 1.5) * view.rowHeight())));
        };
        clickRow(1); // encoder
        QCOMPARE(rows(false), QStringLiteral("=embeddings 5|+encoder 0|=encoder.layer 32|=pooler 2"));
        clickRow(2); // encoder.layer
        QCOMPARE(rows(false),
                 QStringLiteral("=embeddings 5|+encoder 0|+encoder.layer 0|=encoder.layer.0 16|=encoder.layer.1 16|"
                                "=pooler 2"));
        QCOMPARE(rows(true), rows(false));
        clickRow(0); // embeddings: its modules of several keys band, the others are keys
        QVERIFY2(rows(false).startsWith(QStringLiteral("+embeddings 0|=embeddings.LayerNorm 2|")),
                 qPrintable(rows(false)));
        int key = 0;
        while (view.layout().right[size_t(key)].mark != AlignmentLayout::Mark::Plain)
            ++key;
        clickRow(key); // a key of the embeddings: closes them again
        QCOMPARE(rows(false),
                 QStringLiteral("=embeddings 5|+encoder 0|+encoder.layer 0|=encoder.layer.0 16|=encoder.layer.1 16|"
                                "=pooler 2"));
        clickRow(1); // the encoder's group row: closed, one band again
        QCOMPARE(rows(false), QStringLiteral("=embeddings 5|=encoder 32|=pooler 2"));
    }
};

QTEST_MAIN(TestKeyAlignmentView)
#include "tst_keyalignmentview.moc"
