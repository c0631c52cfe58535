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

QString text(const std::string &s) { return QString::fromStdString(s); }

} // namespace

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
