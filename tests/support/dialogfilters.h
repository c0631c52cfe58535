#pragma once
// For tests of file dialogs: runs `open` (a click or an action that opens a modal file
// dialog) and returns the dialog's name filters; the dialog is then cancelled.
#include <QApplication>
#include <QFileDialog>
#include <QStringList>
#include <QTimer>

namespace te::testing {

template <typename Open> QStringList fileDialogFiltersOpenedBy(QObject *context, Open &&open)
{
    QStringList filters{QStringLiteral("(no file dialog)")};
    QTimer poll; // runs inside the dialog's own event loop
    poll.setInterval(10);
    QObject::connect(&poll, &QTimer::timeout, context, [&filters, &poll] {
        QWidget *modal = QApplication::activeModalWidget();
        if (!modal)
            return;
        if (auto *dialog = qobject_cast<QFileDialog *>(modal))
            filters = dialog->nameFilters();
        poll.stop();
        modal->close();
    });
    poll.start();
    open();
    return filters;
}

} // namespace te::testing
