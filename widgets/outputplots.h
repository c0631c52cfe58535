#pragma once
// How the Run tab shows one output of a run: classifier scores as the five best classes,
// named, with their probabilities, a 2-D output as a heatmap, anything else as bars or a line;
// and its values as a table. With a second weight set the same output of the second run
// is drawn beside it (bars side by side for the same classes, a second line, or the heatmap of the
// difference)
// and listed in columns of its own with the difference.
#include "core/runtime/labels/labels.h"
#include "core/runtime/runtimeapi.h"

#include <QString>

class QCustomPlot;
class QTableWidget;

namespace te {

// A vector of float scores, one per class (of shape [N] or [1, N]).
bool isClassScores(const OutputValue &o);

// `b`, when given, is the same output with the second weight set; `names` its A and B.
void plotOutput(QCustomPlot *plot, const OutputValue &a, const OutputValue *b, const Labels &labels,
                const QString &nameA, const QString &nameB);
void fillOutputValues(QTableWidget *table, const OutputValue &a, const OutputValue *b, const Labels &labels);

} // namespace te
