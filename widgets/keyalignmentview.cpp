#include "widgets/keyalignmentview.h"

#include "core/report/valuejson.h"
#include "widgets/loadreportmodel.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPathStroker>
#include <QScrollBar>
#include <QToolTip>

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace te {
namespace {

// Views into keys that outlive the layout's maps.
std::string_view moduleOf(std::string_view key)
{
    const size_t dot = key.rfind('.');
    return dot == std::string_view::npos ? std::string_view() : key.substr(0, dot);
}

QString text(const std::string &s) { return QString::fromStdString(s); }

} // namespace

AlignmentLayout layoutAlignment(const LoadReport &report, const ExpectedModel &model, const WeightsSource &weights,
                                const std::vector<RemapRule> &rules, const std::set<std::string, std::less<>> &opened)
{
    AlignmentLayout out;
    std::unordered_map<std::string_view, int> ckptIndex, modelIndex;
    for (size_t i = 0; i < weights.keys.size(); ++i)
        ckptIndex.emplace(weights.keys[i].key, static_cast<int>(i));
    for (size_t j = 0; j < model.keys.size(); ++j)
        modelIndex.emplace(model.keys[j].key, static_cast<int>(j));

    // Pairs by key index: what loads, what would load but for its shape, what the best
    // suggested rule would pair.
    struct Pair {
        int ckpt, model;
        AlignmentLayout::LinkKind kind;
    };
    std::vector<Pair> pairs;
    std::vector<int> partnerOfModel(model.keys.size(), -1), partnerOfCkpt(weights.keys.size(), -1);
    auto pair = [&](const std::string &ckptKey, const std::string &modelKey, AlignmentLayout::LinkKind kind) {
        auto c = ckptIndex.find(ckptKey);
        auto m = modelIndex.find(modelKey);
        if (c == ckptIndex.end() || m == modelIndex.end() || partnerOfCkpt[size_t(c->second)] >= 0 ||
            partnerOfModel[size_t(m->second)] >= 0)
            return;
        partnerOfCkpt[size_t(c->second)] = static_cast<int>(pairs.size());
        partnerOfModel[size_t(m->second)] = static_cast<int>(pairs.size());
        pairs.push_back({c->second, m->second, kind});
    };
    for (const auto &[modelKey, ckptKey] : report.sources)
        pair(ckptKey, modelKey, AlignmentLayout::LinkKind::Loads);
    for (const ShapeMismatch &s : report.shapeMismatch)
        pair(s.checkpointKey, s.key, AlignmentLayout::LinkKind::ShapeMismatch);
    for (const Suggestion &s : report.suggestions) {
        if (s.kind == "state_dict")
            continue;
        out.suggestion = s.description.empty() ? s.rule.text() : s.description;
        std::vector<RemapRule> trial = rules;
        trial.push_back(s.rule);
        // Every key the rule would bring to a free model key, the missing ones and those a
        // module fills in itself when absent (BatchNorm's num_batches_tracked) alike.
        const std::vector<std::string> renamed = applyRules(weights.keys, trial); // rules compiled once
        for (size_t i = 0; i < weights.keys.size(); ++i)
            if (partnerOfCkpt[i] < 0)
                pair(weights.keys[i].key, renamed[i], AlignmentLayout::LinkKind::Suggested);
        break; // the best one only
    }

    // Bands: the largest subtree of the model (a module and everything under it) whose keys
    // all load from the keys of one subtree of the checkpoint, which load nowhere else. A
    // module named in `opened` is not banded, so opening a band shows the bands a level
    // down. Keys at the top level (no module) band together as "(top level)".
    auto ancestors = [](std::string_view key) { // "a", "a.b" for "a.b.c"; "" for "c"
        std::vector<std::string_view> out;
        for (size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1))
            out.push_back(key.substr(0, dot));
        if (out.empty())
            out.push_back(std::string_view());
        return out;
    };
    // The module prefix two modules share ("a.b" of "a.b.c" and "a.b.d").
    auto shared = [](std::string_view x, std::string_view y) {
        size_t n = 0;
        while (n < x.size() && n < y.size() && x[n] == y[n])
            ++n;
        if (n == x.size() && n == y.size())
            return x;
        if ((n == x.size() && y[n] == '.') || (n == y.size() && x[n] == '.'))
            return x.substr(0, n);
        const size_t dot = x.substr(0, n).rfind('.');
        return dot == std::string_view::npos ? std::string_view() : x.substr(0, dot);
    };
    struct Subtree {
        int keys = 0;
        bool allLoad = true;
        bool started = false;
        std::string_view source; // the checkpoint module all its keys come from
        // Where the checkpoint has this subtree, when every key is renamed only above it
        // ("module.encoder" for the model's "encoder"): the band's name on the left.
        std::string_view mirror;
        bool mirrored = true;
    };
    std::unordered_map<std::string_view, Subtree> modelTrees;
    std::unordered_map<std::string_view, int> ckptTreeKeys;
    for (size_t i = 0; i < weights.keys.size(); ++i)
        for (std::string_view up : ancestors(weights.keys[i].key))
            ++ckptTreeKeys[up];
    for (size_t j = 0; j < model.keys.size(); ++j) {
        const int p = partnerOfModel[j];
        const bool loads = p >= 0 && pairs[size_t(p)].kind == AlignmentLayout::LinkKind::Loads;
        const std::string_view modelKey = model.keys[j].key;
        const std::string_view ckptKey =
            loads ? std::string_view(weights.keys[size_t(pairs[size_t(p)].ckpt)].key) : std::string_view();
        const std::string_view from = moduleOf(ckptKey);
        for (std::string_view up : ancestors(modelKey)) {
            Subtree &t = modelTrees[up];
            ++t.keys;
            t.allLoad = t.allLoad && loads;
            if (loads) {
                // The checkpoint key as this subtree's place there plus the same key inside it.
                const std::string_view inside = up.empty() ? modelKey : modelKey.substr(up.size() + 1);
                std::optional<std::string_view> place;
                if (ckptKey == inside)
                    place = std::string_view();
                else if (ckptKey.size() > inside.size() && ckptKey.substr(ckptKey.size() - inside.size()) == inside &&
                         ckptKey[ckptKey.size() - inside.size() - 1] == '.')
                    place = ckptKey.substr(0, ckptKey.size() - inside.size() - 1);
                t.mirrored = t.mirrored && place && (!t.started || *place == t.mirror);
                if (place && !t.started)
                    t.mirror = *place;
            }
            if (loads && t.started) {
                const std::string_view common = shared(t.source, from);
                // Keys from two top-level trees of the checkpoint have no one source.
                t.allLoad = t.allLoad && (!common.empty() || (t.source.empty() && from.empty()));
                t.source = common;
            } else if (loads) {
                t.source = from;
            }
            t.started = true;
        }
    }
    for (auto &[name, t] : modelTrees)
        if (t.mirrored && t.started)
            t.source = t.mirror;
    std::unordered_map<std::string_view, std::string_view> bandOfCkptModule; // ckpt module -> model module
    std::unordered_set<std::string_view> bandedModel;
    for (size_t j = 0; j < model.keys.size(); ++j) {
        for (std::string_view up : ancestors(model.keys[j].key)) {
            if (bandedModel.count(up))
                break; // this key's band, chosen already
            const Subtree &t = modelTrees[up];
            const auto ckptKeys = ckptTreeKeys.find(t.source);
            if (t.keys < 2 || !t.allLoad || opened.count(up) || opened.count(t.source) ||
                bandOfCkptModule.count(t.source) || ckptKeys == ckptTreeKeys.end() || ckptKeys->second != t.keys)
                continue;
            bandOfCkptModule[t.source] = up;
            bandedModel.insert(up);
            break;
        }
    }
    auto bandOf = [&ancestors](std::string_view key, const auto &banded) -> std::optional<std::string_view> {
        for (std::string_view up : ancestors(key))
            if (banded.count(up))
                return up;
        return std::nullopt;
    };

    // Rows in each side's own order; a band where its subtree's first key was. A group row
    // opens each module the next row is in that the row before was not.
    std::vector<int> rowOfCkpt(weights.keys.size(), -1), rowOfModel(model.keys.size(), -1);
    std::unordered_map<std::string_view, int> bandRowLeft, bandRowRight;
    auto depthOf = [](std::string_view module) {
        return module.empty() ? 0 : static_cast<int>(std::count(module.begin(), module.end(), '.')) + 1;
    };
    struct Side {
        std::vector<AlignmentLayout::Row> *rows;
        std::string_view module; // of the last row
    };
    // Group rows for the modules of `module` that the last row was not in.
    auto enter = [&depthOf](Side &side, std::string_view module) {
        if (module == side.module)
            return;
        size_t at = 0; // the first part of `module` to open: after what both share
        for (size_t n = 0; n <= module.size() && n <= side.module.size(); ++n) {
            const bool endA = n == module.size(), endB = n == side.module.size();
            if ((endA || module[n] == '.') && (endB || side.module[n] == '.'))
                at = endA ? n : n + 1;
            if (endA || endB || module[n] != side.module[n])
                break;
        }
        while (at < module.size()) {
            const size_t dot = module.find('.', at);
            const std::string_view group = module.substr(0, dot == std::string_view::npos ? module.size() : dot);
            side.rows->push_back({std::string(group), AlignmentLayout::Mark::Group, 0, {}, depthOf(group) - 1});
            at = dot == std::string_view::npos ? module.size() : dot + 1;
        }
        side.module = module;
    };
    Side left{&out.left, {}}, right{&out.right, {}};
    for (size_t i = 0; i < weights.keys.size(); ++i) {
        if (const auto module = bandOf(weights.keys[i].key, bandOfCkptModule)) {
            auto [at, made] = bandRowLeft.emplace(*module, 0);
            if (made) {
                enter(left, moduleOf(*module));
                at->second = static_cast<int>(out.left.size());
                out.left.push_back({module->empty() ? std::string("(top level)") : std::string(*module),
                                    AlignmentLayout::Mark::Band,
                                    ckptTreeKeys[*module],
                                    {},
                                    depthOf(moduleOf(*module))});
            }
            rowOfCkpt[i] = at->second;
            continue;
        }
        enter(left, moduleOf(weights.keys[i].key));
        rowOfCkpt[i] = static_cast<int>(out.left.size());
        out.left.push_back({weights.keys[i].key,
                            partnerOfCkpt[i] < 0 ? AlignmentLayout::Mark::Unmatched : AlignmentLayout::Mark::Plain, 1,
                            shapeText(weights.keys[i].shape), depthOf(moduleOf(weights.keys[i].key))});
    }
    for (size_t j = 0; j < model.keys.size(); ++j) {
        if (const auto module = bandOf(model.keys[j].key, bandedModel)) {
            auto [at, made] = bandRowRight.emplace(*module, 0);
            if (made) {
                enter(right, moduleOf(*module));
                at->second = static_cast<int>(out.right.size());
                out.right.push_back({module->empty() ? std::string("(top level)") : std::string(*module),
                                     AlignmentLayout::Mark::Band,
                                     modelTrees[*module].keys,
                                     {},
                                     depthOf(moduleOf(*module))});
            }
            rowOfModel[j] = at->second;
            continue;
        }
        enter(right, moduleOf(model.keys[j].key));
        rowOfModel[j] = static_cast<int>(out.right.size());
        out.right.push_back({model.keys[j].key,
                             partnerOfModel[j] < 0 ? AlignmentLayout::Mark::Unmatched : AlignmentLayout::Mark::Plain, 1,
                             shapeText(model.keys[j].shape), depthOf(moduleOf(model.keys[j].key))});
    }

    // One line per pair, one per band.
    out.leftLinks.assign(out.left.size(), {});
    out.rightLinks.assign(out.right.size(), {});
    std::unordered_set<long long> bandLinks;
    for (const Pair &p : pairs) {
        const int l = rowOfCkpt[size_t(p.ckpt)], r = rowOfModel[size_t(p.model)];
        const bool band = out.left[size_t(l)].mark == AlignmentLayout::Mark::Band;
        if (band && !bandLinks.insert((static_cast<long long>(l) << 32) | static_cast<unsigned>(r)).second)
            continue;
        out.leftLinks[size_t(l)].push_back(static_cast<int>(out.links.size()));
        out.rightLinks[size_t(r)].push_back(static_cast<int>(out.links.size()));
        out.links.push_back({l, r, p.kind, band ? out.left[size_t(l)].keys : 1});
    }
    return out;
}

KeyAlignmentView::KeyAlignmentView(QWidget *parent)
    : QAbstractScrollArea(parent)
    , m_layout(std::make_shared<const AlignmentLayout>())
{
    viewport()->setMouseTracking(true);
    verticalScrollBar()->setSingleStep(rowHeight());
    connect(verticalScrollBar(), &QScrollBar::valueChanged, viewport(), qOverload<>(&QWidget::update));
}

int KeyAlignmentView::rowHeight() const { return fontMetrics().height() + 4; }

void KeyAlignmentView::setReport(std::shared_ptr<const LoadReport> report, std::shared_ptr<const ExpectedModel> model,
                                 std::shared_ptr<const WeightsSource> weights, const std::vector<RemapRule> &rules,
                                 std::shared_ptr<const AlignmentLayout> laidOut)
{
    m_report = std::move(report);
    m_model = std::move(model);
    m_weights = std::move(weights);
    m_rules = rules;
    if (!laidOut) {
        relayout();
        return;
    }
    m_opened.clear();
    m_layout = std::move(laidOut);
    updateScrollBar();
    viewport()->update();
}

void KeyAlignmentView::clear()
{
    m_report.reset();
    m_model.reset();
    m_weights.reset();
    m_layout = std::make_shared<const AlignmentLayout>();
    m_drawn.clear();
    updateScrollBar();
    viewport()->update();
}

void KeyAlignmentView::relayout()
{
    m_layout = std::make_shared<const AlignmentLayout>(
        m_report && m_model && m_weights ? layoutAlignment(*m_report, *m_model, *m_weights, m_rules, m_opened)
                                         : AlignmentLayout{});
    updateScrollBar();
    viewport()->update();
}

void KeyAlignmentView::updateScrollBar()
{
    const int rows = static_cast<int>(std::max(m_layout->left.size(), m_layout->right.size())) + 1; // + the heading
    verticalScrollBar()->setRange(0, std::max(0, rows * rowHeight() - viewport()->height()));
    verticalScrollBar()->setPageStep(viewport()->height());
}

void KeyAlignmentView::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBar();
}

int KeyAlignmentView::rowAt(int y) const { return (y + verticalScrollBar()->value()) / rowHeight() - 1; }

QPainterPath KeyAlignmentView::linkPath(const AlignmentLayout::Link &link) const
{
    const int w = viewport()->width(), h = rowHeight(), top = verticalScrollBar()->value();
    const double x0 = w * 0.42, x1 = w * 0.58;
    const double y0 = (link.left + 1.5) * h - top, y1 = (link.right + 1.5) * h - top;
    QPainterPath path({x0, y0});
    path.cubicTo({(x0 + x1) / 2, y0}, {(x0 + x1) / 2, y1}, {x1, y1});
    return path;
}

void KeyAlignmentView::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    const QPalette pal = palette();
    p.fillRect(viewport()->rect(), pal.color(QPalette::Base));
    const int w = viewport()->width(), h = rowHeight(), top = verticalScrollBar()->value();
    const int first = std::max(0, top / h - 1), last = (top + viewport()->height()) / h;
    const int sideWidth = static_cast<int>(w * 0.42) - 8;
    m_drawn.clear();

    auto drawSide = [&](const std::vector<AlignmentLayout::Row> &rows, int x, Qt::Alignment align) {
        for (int r = first; r <= last && r < static_cast<int>(rows.size()); ++r) {
            const AlignmentLayout::Row &row = rows[size_t(r)];
            // A tree: each row indented by its depth (towards the middle on the left side),
            // named by the last part of its path.
            const int indent = std::min(row.depth * 12, sideWidth / 2);
            const QRect box = align & Qt::AlignRight ? QRect(x, (r + 1) * h - top, sideWidth - indent, h)
                                                     : QRect(x + indent, (r + 1) * h - top, sideWidth - indent, h);
            const size_t dot = row.text.rfind('.');
            QString label = text(dot == std::string::npos ? row.text : row.text.substr(dot + 1));
            p.setPen(pal.color(QPalette::Text));
            if (row.mark == AlignmentLayout::Mark::Band) {
                p.fillRect(box.adjusted(0, 1, 0, -1), pal.color(QPalette::AlternateBase));
                label = tr("%1 — %2 keys ▸").arg(label).arg(row.keys);
            } else if (row.mark == AlignmentLayout::Mark::Group) {
                QFont bold = p.font();
                bold.setBold(true);
                p.setFont(bold);
                label = (m_opened.count(row.text) ? QStringLiteral("▾ ") : QString()) + label;
            } else if (row.mark == AlignmentLayout::Mark::Unmatched) {
                p.setPen(LoadReportModel::statusColor(&rows == &m_layout->left ? LoadStatus::Unexpected
                                                                               : LoadStatus::Missing));
            }
            if (!row.shape.empty())
                label += QStringLiteral("  ") + text(row.shape);
            p.drawText(box, static_cast<int>(align | Qt::AlignVCenter),
                       p.fontMetrics().elidedText(label, Qt::ElideMiddle, box.width()));
            p.setFont(font());
        }
    };
    // Headings on the first row, then the keys.
    drawSide(m_layout->left, 4, Qt::AlignRight);
    drawSide(m_layout->right, w - sideWidth - 4, Qt::AlignLeft);
    p.fillRect(QRect(0, 0, w, h), pal.color(QPalette::Window));
    p.setPen(pal.color(QPalette::WindowText));
    p.drawText(QRect(4, 0, sideWidth, h), Qt::AlignRight | Qt::AlignVCenter, tr("Checkpoint keys"));
    p.drawText(QRect(w - sideWidth - 4, 0, sideWidth, h), Qt::AlignLeft | Qt::AlignVCenter, tr("Model keys"));

    // Lines with an end in view: from the left rows, then the right rows' others.
    p.setRenderHint(QPainter::Antialiasing);
    p.setClipRect(QRect(0, h, w, viewport()->height() - h));
    auto draw = [&](int index) {
        const AlignmentLayout::Link &link = m_layout->links[size_t(index)];
        QPen pen(pal.color(QPalette::Mid), link.keys > 1 ? 3.0 : 1.0);
        if (link.kind == AlignmentLayout::LinkKind::ShapeMismatch)
            pen = QPen(LoadReportModel::statusColor(LoadStatus::ShapeMismatch), 1.6);
        else if (link.kind == AlignmentLayout::LinkKind::Suggested)
            pen = QPen(pal.color(QPalette::Highlight), 1.4, Qt::DashLine);
        const QPainterPath path = linkPath(link);
        p.setPen(pen);
        p.drawPath(path);
        m_drawn.emplace_back(path, index);
    };
    auto visible = [&](int row) { return row >= first && row <= last; };
    for (int r = first; r <= last && r < static_cast<int>(m_layout->leftLinks.size()); ++r)
        for (int l : m_layout->leftLinks[size_t(r)])
            draw(l);
    for (int r = first; r <= last && r < static_cast<int>(m_layout->rightLinks.size()); ++r)
        for (int l : m_layout->rightLinks[size_t(r)])
            if (!visible(m_layout->links[size_t(l)].left))
                draw(l);
    if (m_layout->left.empty() && m_layout->right.empty()) {
        p.setClipping(false);
        p.setPen(pal.color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect(), Qt::AlignCenter,
                   tr("Check a checkpoint against a model to see its keys lined up."));
    }
}

QString KeyAlignmentView::describeAt(const QPoint &point) const
{
    QPainterPathStroker stroker;
    stroker.setWidth(7);
    for (const auto &[path, index] : m_drawn) {
        if (!stroker.createStroke(path).contains(point))
            continue;
        const AlignmentLayout::Link &link = m_layout->links[size_t(index)];
        const AlignmentLayout::Row &l = m_layout->left[size_t(link.left)], &r = m_layout->right[size_t(link.right)];
        if (link.keys > 1)
            return tr("%1 keys of %2 load into %3").arg(link.keys).arg(text(l.text), text(r.text));
        const QString what = link.kind == AlignmentLayout::LinkKind::ShapeMismatch ? tr("shapes differ")
                             : link.kind == AlignmentLayout::LinkKind::Suggested
                                 ? tr("would load after: %1").arg(text(m_layout->suggestion))
                                 : tr("loads");
        return tr("%1 %2\n→ %3 %4\n%5").arg(text(l.text), text(l.shape), text(r.text), text(r.shape), what);
    }
    return {};
}

bool KeyAlignmentView::toggleBandAt(const QPoint &point)
{
    const int row = rowAt(point.y());
    const bool left = point.x() < viewport()->width() / 2;
    const std::vector<AlignmentLayout::Row> &rows = left ? m_layout->left : m_layout->right;
    if (row < 0 || row >= static_cast<int>(rows.size()))
        return false;
    const AlignmentLayout::Row &r = rows[size_t(row)];
    if (r.mark == AlignmentLayout::Mark::Band) {
        m_opened.insert(r.text == "(top level)" ? std::string() : r.text);
        relayout();
        return true;
    }
    if (r.mark == AlignmentLayout::Mark::Group) { // an opened band's module closes again
        if (!m_opened.erase(r.text))
            return false;
        relayout();
        return true;
    }
    // A key of an opened band closes it again: the band is named by the model's module,
    // so a checkpoint key goes by the model key it loads into.
    std::string_view key = r.text;
    const auto &links = left ? m_layout->leftLinks : m_layout->rightLinks;
    if (left && size_t(row) < links.size() && !links[size_t(row)].empty())
        key = m_layout->right[size_t(m_layout->links[size_t(links[size_t(row)].front())].right)].text;
    // The innermost opened module around the key.
    for (std::string_view module = moduleOf(key);; module = moduleOf(module)) {
        if (const auto opened = m_opened.find(module); opened != m_opened.end()) {
            m_opened.erase(opened);
            relayout();
            return true;
        }
        if (module.empty())
            return false;
    }
}

void KeyAlignmentView::mouseMoveEvent(QMouseEvent *event)
{
    const QString tip = describeAt(event->position().toPoint());
    if (tip.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), tip, viewport());
}

void KeyAlignmentView::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        toggleBandAt(event->position().toPoint());
}

} // namespace te
