#pragma once
// The Load report's second view: checkpoint keys on the left, model keys on the right, each
// side a tree of modules (a group row where a module starts, its keys indented under it), a
// line between every pair that loads (red where the shapes differ), and dashed lines for
// what the best suggested rule would pair up before it is applied. Keys that find no
// partner stand out in the report's colours. The largest subtree of modules whose keys all
// load from one subtree of the checkpoint is one band on each side with one line and a
// count; a click on a band opens it (showing the bands a level down), a click on a key
// closes the innermost band opened around it, and so does a click on an opened module's
// group row. Only the rows in view are drawn, so 100,000
// keys scroll like ten.
#include "widgets/alignmentlayout.h"

#include <QAbstractScrollArea>
#include <QPainterPath>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace te {

class KeyAlignmentView : public QAbstractScrollArea {
    Q_OBJECT
public:
    explicit KeyAlignmentView(QWidget *parent = nullptr);
    // Kept, not copied: a report of 100,000 keys is large. `laidOut`, when given, is
    // layoutAlignment of the same inputs with every band closed, made on a worker.
    void setReport(std::shared_ptr<const LoadReport> report, std::shared_ptr<const ExpectedModel> model,
                   std::shared_ptr<const WeightsSource> weights, const std::vector<RemapRule> &rules,
                   std::shared_ptr<const AlignmentLayout> laidOut = nullptr);
    void clear();
    const AlignmentLayout &layout() const { return *m_layout; }
    // What hovering a point says: both keys and shapes of the line under it; empty elsewhere.
    QString describeAt(const QPoint &viewportPoint) const;
    // Opens the band under a point, or closes the opened band of the key under it; false
    // when there is neither.
    bool toggleBandAt(const QPoint &viewportPoint);
    int rowHeight() const;
    int rowAt(int y) const; // the row index at a viewport y

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;

private:
    void relayout();
    void updateScrollBar();
    QPainterPath linkPath(const AlignmentLayout::Link &link) const;

    std::shared_ptr<const LoadReport> m_report;
    std::shared_ptr<const ExpectedModel> m_model;
    std::shared_ptr<const WeightsSource> m_weights;
    std::vector<RemapRule> m_rules;
    std::set<std::string, std::less<>> m_opened;
    std::shared_ptr<const AlignmentLayout> m_layout;           // shared with the worker that made it
    mutable std::vector<std::pair<QPainterPath, int>> m_drawn; // lines of the last paint
};

} // namespace te
