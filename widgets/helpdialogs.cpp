#include "widgets/helpdialogs.h"
#include "core/runtime/runtimeapi.h"
#include "core/runtime/runtimeloader.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QMessageBox>
#include <QTableWidget>
#include <QVBoxLayout>

namespace te {

const std::vector<KeyboardShortcut> &keyboardShortcuts()
{
    static const std::vector<KeyboardShortcut> keys = {
        {QStringLiteral("Ctrl+O"), QObject::tr("Open a file")},
        {QStringLiteral("F5"), QObject::tr("Reload the open file")},
        {QStringLiteral("Ctrl+K"), QObject::tr("Check the open checkpoint against a model")},
        {QStringLiteral("Ctrl+R"), QObject::tr("Run the model")},
        {QStringLiteral("Ctrl+."), QObject::tr("Stop the run after the forward pass under way")},
        {QStringLiteral("Ctrl+F"), QObject::tr("Filter the keys")},
        {QStringLiteral("Esc"), QObject::tr("In the filter: clear it")},
        {QStringLiteral("Down"), QObject::tr("In the filter: go to the tree")},
        {QStringLiteral("Ctrl+C"), QObject::tr("In the tree: copy the selected keys")},
        {QStringLiteral("Ctrl+Shift+C"), QObject::tr("Compare the open file with another")},
        {QStringLiteral("Ctrl+Shift+E"), QObject::tr("Export the tensors as a state dict (.pt or safetensors)")},
        {QStringLiteral("Ctrl+1 … Ctrl+5"), QObject::tr("Show the Tensor, Load report, Run, File or Compare tab")},
        {QStringLiteral("F11"), QObject::tr("Full screen on or off")},
        {QStringLiteral("Ctrl+Q"), QObject::tr("Quit")},
    };
    return keys;
}

void showKeyboardShortcuts(QWidget *parent)
{
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("Keyboard shortcuts"));
    auto *layout = new QVBoxLayout(&dialog);
    const auto &keys = keyboardShortcuts();
    auto *table = new QTableWidget(static_cast<int>(keys.size()), 2, &dialog);
    table->setHorizontalHeaderLabels({QObject::tr("Keys"), QObject::tr("What they do")});
    table->verticalHeader()->hide();
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setTabKeyNavigation(false);
    for (int row = 0; row < static_cast<int>(keys.size()); ++row) {
        table->setItem(row, 0, new QTableWidgetItem(keys[static_cast<size_t>(row)].keys));
        table->setItem(row, 1, new QTableWidgetItem(keys[static_cast<size_t>(row)].what));
    }
    table->resizeColumnsToContents();
    table->horizontalHeader()->setStretchLastSection(true);
    layout->addWidget(table);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, &dialog);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    layout->addWidget(buttons);
    dialog.resize(520, 420);
    dialog.exec();
}

QString aboutText()
{
    QString libtorch = QObject::tr("not loaded yet (it loads when a model first runs)");
    if (runtimeLoaded()) {
        if (Runtime *r = loadRuntime())
            libtorch = QString::fromStdString(r->libtorchVersion());
    }
    return QObject::tr("<h3>Torch Explorer %1</h3>"
                       "<p>Looks inside PyTorch model files without running them.</p>"
                       "<p>Qt %2 (built with %3)<br>libtorch: %4</p>"
                       "<p>Free software under the GNU General Public License, version 3 or later.</p>")
        .arg(QStringLiteral(TE_VERSION), QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR),
             libtorch.toHtmlEscaped());
}

void showAbout(QWidget *parent) { QMessageBox::about(parent, QObject::tr("About Torch Explorer"), aboutText()); }

} // namespace te
