#pragma once
// Columns of a table or tree that fit the width they are shown in: each is as wide as its
// contents, and when together they are wider than the view, the columns named as
// shrinkable give up the difference, the first named first, each down to its header's
// width or the floor given (their text is elided instead). No column gets narrower than
// its header, so when
// even that does not fit, the view scrolls sideways as before. Spare width, if any, goes
// to the column `growing` (-1: none).
#include <QList>

class QHeaderView;
class QTableView;
class QTreeView;

namespace te {

struct ShrinkableColumn {
    int column;
    int floor = 0; // pixels it keeps at least; its header's width when that is more
};

void fitColumns(QHeaderView *header, int available, const QList<ShrinkableColumn> &shrinkable, int growing = -1);
// Sizes every column of `view` to its contents, then fits them to its viewport.
void fitColumnsToView(QTreeView *view, const QList<ShrinkableColumn> &shrinkable, int growing = -1);
void fitColumnsToView(QTableView *view, const QList<ShrinkableColumn> &shrinkable, int growing = -1);

} // namespace te
