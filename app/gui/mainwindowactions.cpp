// MainWindow's menus, toolbar and keys, which of its actions can act right now (each one
// that cannot says why in its tooltip), and the file dialogs they open.
#include "app/gui/mainwindow.h"
#include "core/report/inspectreport.h"
#include "widgets/comparepanel.h"
#include "widgets/devicepicker.h"
#include "widgets/exportdialog.h"
#include "widgets/filetypes.h"
#include "widgets/helpdialogs.h"
#include "widgets/hubcachedialog.h"
#include "widgets/hubdialog.h"
#include "widgets/recentfiles.h"
#include "widgets/runpanel.h"
#include "widgets/welcomepage.h"

#include <QAction>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QSaveFile>
#include <QSettings>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeView>

namespace te {

void MainWindow::buildActions()
{
    buildFileMenu();
    buildViewAndHelpMenus();
    buildToolBar();
}

void MainWindow::buildFileMenu()
{
    QMenu *fileMenu = menuBar()->addMenu(tr("&File"));
    QAction *open = fileMenu->addAction(tr("&Open…"), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence::Open);
    fileMenu->addAction(tr("Open &folder…"), this, &MainWindow::openFolderDialog);
    fileMenu->addAction(tr("Open from Hugging Face c&ache…"), this, &MainWindow::openFromHubCache);
    fileMenu->addAction(tr("Open from Hugging Face &Hub…"), this, &MainWindow::openFromHub);
    m_recent = new RecentFiles(tr("Open r&ecent"), this);
    connect(m_recent, &RecentFiles::openRequested, this, &MainWindow::openFile);
    connect(m_recent, &RecentFiles::changed, m_welcome, &WelcomePage::setRecentFiles);
    fileMenu->addMenu(m_recent->menu());
    m_reloadAction = fileMenu->addAction(tr("&Reload"), this, &MainWindow::reload);
    m_reloadAction->setShortcut(QKeySequence(Qt::Key_F5));
    m_compareAction = fileMenu->addAction(tr("&Compare with…"), this, &MainWindow::compareDialog);
    m_compareAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_C));
    fileMenu->addSeparator();
    m_exportMenu = fileMenu->addMenu(tr("&Export report"));
    m_exportMenu->addAction(tr("As &JSON…"), this, [this] { exportReport(false); });
    m_exportMenu->addAction(tr("As &Markdown…"), this, [this] { exportReport(true); });
    m_exportStateAction = fileMenu->addAction(tr("Export &state dict…"), this, &MainWindow::exportStateDict);
    m_exportStateAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_E));
    fileMenu->addSeparator();
    fileMenu->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
}

void MainWindow::buildViewAndHelpMenus()
{
    QMenu *editMenu = menuBar()->addMenu(tr("&Edit"));
    QAction *copy = editMenu->addAction(tr("&Copy key"), this, &MainWindow::copySelectedKeys);
    copy->setShortcut(QKeySequence::Copy);
    copy->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    m_tree->addAction(copy);
    m_findAction = editMenu->addAction(tr("&Filter keys"));
    m_findAction->setShortcut(QKeySequence::Find);

    QMenu *viewMenu = menuBar()->addMenu(tr("&View"));
    const QStringList tabs = {tr("&Tensor"), tr("&Load report"), tr("&Run"), tr("&File"), tr("&Compare")};
    for (int i = 0; i < tabs.size(); ++i) {
        QAction *show = viewMenu->addAction(tabs[i], this, [this, i] { m_tabs->setCurrentIndex(i); });
        show->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
    }
    viewMenu->addSeparator();
    QAction *fullScreen =
        viewMenu->addAction(tr("F&ull screen"), this, [this] { setWindowState(windowState() ^ Qt::WindowFullScreen); });
    fullScreen->setShortcut(QKeySequence(Qt::Key_F11));

    QMenu *modelMenu = menuBar()->addMenu(tr("&Model"));
    m_checkAction = modelMenu->addAction(tr("&Check against…"), this, &MainWindow::checkAgainstDialog);
    m_checkAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    m_runAction = modelMenu->addAction(tr("&Run ▶"), this, &MainWindow::runModel);
    m_runAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_stopAction = modelMenu->addAction(tr("S&top the run"), m_runPanel, &RunPanel::stop);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));

    QMenu *helpMenu = menuBar()->addMenu(tr("&Help"));
    helpMenu->addAction(tr("&Keyboard shortcuts"), this, [this] { showKeyboardShortcuts(this); });
    helpMenu->addAction(tr("&About Torch Explorer"), this, [this] { showAbout(this); });
}

void MainWindow::buildToolBar()
{
    QToolBar *tools = addToolBar(tr("Main"));
    tools->setObjectName(QStringLiteral("mainToolBar"));
    tools->setMovable(false);
    QAction *openTool = tools->addAction(tr("Open"), this, &MainWindow::openDialog);
    openTool->setToolTip(tr("Open a model file (Ctrl+O); the arrow lists recent files"));
    openTool->setMenu(m_recent->menu());
    if (auto *button = qobject_cast<QToolButton *>(tools->widgetForAction(openTool)))
        button->setPopupMode(QToolButton::MenuButtonPopup); // a click opens, the arrow lists
    tools->addAction(m_reloadAction);
    tools->addAction(m_checkAction);
    tools->addSeparator();
    tools->addWidget(new QLabel(tr(" Device "), this));
    m_devices = new DevicePicker(this);
    tools->addWidget(m_devices);
    connect(m_devices, &DevicePicker::deviceChanged, m_runPanel, &RunPanel::setDevice);
    tools->addAction(m_runAction);
    tools->addSeparator();
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("filter"));
    m_filter->setPlaceholderText(tr("Filter keys…  (Ctrl+F)"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMaximumWidth(320);
    m_filter->installEventFilter(this);
    tools->addWidget(m_filter);
    connect(m_findAction, &QAction::triggered, this, [this] {
        m_filter->setFocus();
        m_filter->selectAll();
    });
    // Debounced: refiltering a large tree on every keystroke would stall typing.
    m_filterTimer = new QTimer(this);
    m_filterTimer->setSingleShot(true);
    m_filterTimer->setInterval(300);
    connect(m_filter, &QLineEdit::textChanged, m_filterTimer, qOverload<>(&QTimer::start));
    connect(m_filterTimer, &QTimer::timeout, this, &MainWindow::applyFilter);
}

// What can act now: each action is enabled only when it would do something, and says
// what it does, or why it cannot, in its tooltip.
void MainWindow::updateActions()
{
    auto state = [](QAction *action, bool can, const QString &does, const QString &whyNot) {
        action->setEnabled(can);
        action->setToolTip(can ? does : whyNot);
        action->setStatusTip(can ? does : whyNot);
    };
    state(m_reloadAction, !m_currentPath.isEmpty(), tr("Read the open file again (F5)"),
          tr("Nothing to reload: no file has been opened yet"));
    state(m_checkAction, m_doc != nullptr, tr("Would this checkpoint load into a model? (Ctrl+K)"),
          tr("Open a checkpoint first, then choose the model to check it against"));
    state(m_runAction, m_runPanel->hasModel(), tr("Run the TorchScript model on made-up inputs (Ctrl+R)"),
          tr("Nothing to run: open a TorchScript model, or check a checkpoint against one"));
    state(m_stopAction, m_runPanel->isRunning(), tr("Stop after the forward pass under way (Ctrl+.)"),
          tr("Nothing is running"));
    state(m_compareAction, m_doc != nullptr, tr("Compare this file with another, key by key (Ctrl+Shift+C)"),
          tr("Open a file first, then choose the one to compare it with"));
    state(m_exportStateAction, m_doc && !m_doc->entries.empty(),
          tr("Write the tensors as a .pt file or as safetensors, tensor by tensor (Ctrl+Shift+E)"),
          m_doc ? tr("This file holds no tensors to export") : tr("Open a file first"));
    m_exportMenu->setEnabled(m_doc != nullptr);
    m_exportMenu->menuAction()->setToolTip(m_doc ? QString() : tr("Open a file first"));
}

// In the filter: Esc clears it, Down goes to the tree.
bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_filter && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent *>(event)->key();
        if (key == Qt::Key_Escape && !m_filter->text().isEmpty()) {
            setFilterNow(QString());
            return true;
        }
        if (key == Qt::Key_Down) {
            m_tree->setFocus();
            if (!m_tree->currentIndex().isValid() && m_tree->model()->rowCount() > 0)
                m_tree->setCurrentIndex(m_tree->model()->index(0, 0));
            return true;
        }
    }
    return QMainWindow::eventFilter(watched, event);
}

// ---- the dialogs the actions open

void MainWindow::checkAgainstDialog()
{
    const QString path = askForModelFile(tr("Check against a model"), tr("Models and state dicts"));
    if (!path.isEmpty())
        setReference(path);
}

void MainWindow::openDialog()
{
    const QString path = askForModelFile(tr("Open a PyTorch file"), tr("PyTorch files"));
    if (!path.isEmpty())
        openFile(path);
}

// Every file this program opens, from the one list the MIME file is made of too.
QString MainWindow::askForModelFile(const QString &title, const QString &label)
{
    const QString dir = QSettings().value(QStringLiteral("lastFolder"), QDir::homePath()).toString();
    return QFileDialog::getOpenFileName(this, title, dir, FileTypes::openFilter(label));
}

void MainWindow::compareDialog()
{
    if (!m_doc) {
        statusBar()->showMessage(tr("Open a file first, then choose the one to compare it with"), 5000);
        return;
    }
    const QString path =
        askForModelFile(tr("Compare %1 with").arg(QFileInfo(m_currentPath).fileName()), tr("PyTorch files"));
    if (!path.isEmpty())
        compareWith(path);
}

void MainWindow::compareWith(const QString &path)
{
    m_tabs->setCurrentWidget(m_comparePanel);
    m_comparePanel->compareWith(path);
}

void MainWindow::openFolderDialog()
{
    QSettings settings;
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Open a model folder (config.json and weights)"),
                                          settings.value(QStringLiteral("lastFolder"), QDir::homePath()).toString());
    if (!dir.isEmpty())
        openFile(dir);
}

void MainWindow::openFromHubCache()
{
    HubCacheDialog dialog(QString::fromStdString(hubCacheRoot()), this);
    if (dialog.exec() == QDialog::Accepted && !dialog.selectedFolder().isEmpty())
        openFile(dialog.selectedFolder());
}

void MainWindow::openFromHub()
{
    HubDialog dialog(this);
    if (dialog.exec() == QDialog::Accepted && !dialog.reference().isEmpty())
        openFile(dialog.reference());
}

void MainWindow::exportStateDict()
{
    if (!m_doc)
        return;
    // A remote model's suggested target goes next to the user's home, not a URL.
    const QString base =
        QFileInfo::exists(m_currentPath) ? m_currentPath : QDir::home().filePath(QFileInfo(m_currentPath).fileName());
    ExportDialog dialog(m_doc, base, this);
    dialog.exec();
    if (!dialog.writtenFiles().isEmpty())
        statusBar()->showMessage(tr("State dict written to %1").arg(dialog.writtenFiles().join(QStringLiteral(", "))),
                                 8000);
}

void MainWindow::exportReport(bool markdown)
{
    if (!m_doc)
        return;
    const QString suggested =
        QFileInfo(m_currentPath).completeBaseName() + (markdown ? QStringLiteral(".md") : QStringLiteral(".json"));
    const QString path = QFileDialog::getSaveFileName(this, tr("Export report"),
                                                      QFileInfo(m_currentPath).absoluteDir().filePath(suggested),
                                                      markdown ? tr("Markdown (*.md)") : tr("JSON (*.json)"));
    if (path.isEmpty())
        return;
    QString error;
    if (writeReport(path, markdown, &error))
        statusBar()->showMessage(tr("Report written to %1").arg(path), 5000);
    else
        showBanner(tr("Could not write %1: %2").arg(path, error), true);
}

} // namespace te
