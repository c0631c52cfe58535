#include "widgets/columnfit.h"

#include <QHeaderView>
#include <QTableView>
#include <QTreeView>
#include <algorithm>

namespace te {

void fitColumns(QHeaderView *header, int available, const QList<ShrinkableColumn> &shrinkable, int growing)
{
    int total = 0;
    for (int c = 0; c < header->count(); ++c)
        if (!header->isSectionHidden(c))
            total += header->sectionSize(c);
    int excess = total - available;
    if (excess < 0 && growing >= 0 && !header->isSectionHidden(growing))
        header->resizeSection(growing, header->sectionSize(growing) - excess);
    for (const ShrinkableColumn &s : shrinkable) {
        const int c = s.column;
        if (excess <= 0)
            return;
        if (header->isSectionHidden(c))
            continue;
        const int floor = std::max(s.floor, header->sectionSizeHint(c));
        const int give = std::min(excess, std::max(0, header->sectionSize(c) - floor));
        header->resizeSection(c, header->sectionSize(c) - give);
        excess -= give;
    }
}

void fitColumnsToView(QTreeView *view, const QList<ShrinkableColumn> &shrinkable, int growing)
{
    for (int c = 0; c < view->header()->count(); ++c)
        view->resizeColumnToContents(c);
    fitColumns(view->header(), view->viewport()->width(), shrinkable, growing);
}

void fitColumnsToView(QTableView *view, const QList<ShrinkableColumn> &shrinkable, int growing)
{
    view->resizeColumnsToContents();
    fitColumns(view->horizontalHeader(), view->viewport()->width(), shrinkable, growing);
}

} // namespace te
