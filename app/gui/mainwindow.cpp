#include "app/gui/mainwindow.h"
#include "core/hub/hubdocument.h"

#include "core/report/inspectreport.h"
#include "core/report/units.h"
#include "core/report/valuejson.h"
#include "widgets/banner.h"
#include "widgets/columnfit.h"
#include "widgets/comparemodel.h"
#include "widgets/comparepanel.h"
#include "widgets/devicepicker.h"
#include "widgets/documentloader.h"
#include "widgets/documenttreemodel.h"
#include "widgets/documentwatcher.h"
#include "widgets/fileinfopanel.h"
#include "widgets/filetypes.h"
#include "widgets/hubcachedialog.h"
#include "widgets/loadreportpanel.h"
#include "widgets/recentfiles.h"
#include "widgets/runpanel.h"
#include "widgets/tensorpanel.h"
#include "widgets/welcomepage.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QScreen>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>
#include <map>

namespace te {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_loader(new DocumentLoader(this))
    , m_referenceLoader(new DocumentLoader(this))
    , m_model(new DocumentTreeModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
{
    setWindowTitle(tr("Torch Explorer"));
    setAcceptDrops(true);
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(DocumentTreeModel::SortRole);
    m_proxy->setRecursiveFilteringEnabled(true);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(DocumentTreeModel::NameColumn);
    m_proxy->setFilterRole(DocumentTreeModel::KeyRole);
    buildLayout();
    buildActions();
    restoreSettings();
    updateActions();
    connect(m_loadPanel, &LoadReportPanel::clearReferenceRequested, this, &MainWindow::clearReference);
    // A row of the report selects its key in the tree, and a key of the tree its row.
    connect(m_loadPanel, &LoadReportPanel::checkpointKeySelected, this, [this](const QString &key) {
        const QModelIndex at = m_proxy->mapFromSource(m_model->indexForKey(key));
        if (at.isValid() && at != m_tree->currentIndex()) {
            m_tree->setCurrentIndex(at);
            m_tree->scrollTo(at);
        }
    });

    connect(m_loader, &DocumentLoader::progress, this, [this](int percent, const QString &label) {
        m_progress->setValue(percent);
        m_progress->setFormat(label + QStringLiteral(" %p%"));
    });
    connect(m_loader, &DocumentLoader::loaded, this, &MainWindow::showDocument);
    connect(m_loader, &DocumentLoader::failed, this, &MainWindow::showError);
    connect(m_loader, &DocumentLoader::cancelled, this, [this](const QString &path) {
        m_progress->hide();
        m_cancel->hide();
        statusBar()->showMessage(tr("Opening %1 was cancelled").arg(path), 5000);
        emit documentShown();
        emit idle();
    });
    connect(m_tensorPanel, &TensorPanel::statsReady, this, [this] {
        if (m_doc && m_doc->remote)
            updateStatus(); // the values just read were fetched: the count grew
        if (!isBusy())
            emit idle();
    });
    connect(m_referenceLoader, &DocumentLoader::loaded, this, [this](std::shared_ptr<const Document> doc) {
        m_referenceDoc = std::move(doc);
        m_loadPanel->setInputs(m_doc, m_referenceDoc);
        m_tabs->setCurrentWidget(m_loadPanel);
        updateStatus();
    });
    connect(m_referenceLoader, &DocumentLoader::failed, this, [this](const QString &path, const QString &message) {
        showBanner(tr("Could not open the reference %1: %2").arg(QFileInfo(path).fileName(), message), true);
        clearReference();
        if (!isBusy())
            emit idle();
    });
    connect(m_loadPanel, &LoadReportPanel::checkpointStatusChanged, m_model, &DocumentTreeModel::setLoadStatus);
    connect(m_loadPanel, &LoadReportPanel::reportReady, this, [this] {
        updateRunPanel();
        if (!isBusy())
            emit idle();
    });
    connect(m_runPanel, &RunPanel::runningChanged, this, &MainWindow::updateActions);
    connect(m_comparePanel, &ComparePanel::compareRequested, this, &MainWindow::compareDialog);
    connect(m_comparePanel, &ComparePanel::comparisonReady, this, [this] { m_tabs->setCurrentWidget(m_comparePanel); });
    connect(m_comparePanel, &ComparePanel::keySelected, this, [this](const QString &key) {
        const QModelIndex at = m_proxy->mapFromSource(m_model->indexForKey(key));
        if (at.isValid() && at != m_tree->currentIndex()) {
            m_tree->setCurrentIndex(at);
            m_tree->scrollTo(at);
        }
    });
    for (auto signal : {&ComparePanel::valuesDone, &ComparePanel::detailsReady})
        connect(m_comparePanel, signal, this, [this] {
            if (!isBusy())
                emit idle();
        });
    connect(m_runPanel, &RunPanel::runFinished, this, [this] {
        if (!isBusy())
            emit idle();
    });
}

MainWindow::~MainWindow() = default;

QString MainWindow::demoPath()
{
    const QString appDir = QCoreApplication::applicationDirPath();
    for (const QString &candidate : {appDir + QStringLiteral("/../../resources/demo/demo_model.pt"),
                                     appDir + QStringLiteral("/../share/torch-explorer/demo/demo_model.pt"),
                                     QStringLiteral(TE_SOURCE_DIR "/resources/demo/demo_model.pt")}) {
        if (QFileInfo::exists(candidate))
            return QFileInfo(candidate).canonicalFilePath();
    }
    return {};
}

// The demo as scripts/run shows it: the checkpoint, checked against its model.
void MainWindow::openDemo()
{
    const QString model = demoPath();
    if (model.isEmpty()) {
        showError(tr("demo"), tr("The bundled demo model was not found."));
        return;
    }
    const QString checkpoint = QFileInfo(model).dir().filePath(QStringLiteral("demo_checkpoint.pt"));
    if (!QFileInfo::exists(checkpoint)) {
        openFile(model);
        return;
    }
    openFile(checkpoint);
    setReference(model);
}

void MainWindow::buildLayout()
{
    m_stack = new QStackedWidget(this);
    m_welcome = new WelcomePage(m_stack);
    m_stack->addWidget(m_welcome);

    auto *page = new QWidget(m_stack);
    auto *layout = new QVBoxLayout(page);
    layout->setContentsMargins(0, 0, 0, 0);
    m_banner = new Banner(page);
    connect(m_banner, &Banner::linkActivated, this, [this](const QString &link) {
        if (link == QLatin1String("reload"))
            reload();
    });
    layout->addWidget(m_banner);

    m_watcher = new DocumentWatcher(this);
    connect(m_watcher, &DocumentWatcher::deleted, this, [this] {
        // The open file keeps its bytes until it is closed: everything still works.
        showBanner(tr("%1 was deleted or moved on disk; what is shown stays readable until another file is opened.")
                       .arg(QFileInfo(m_currentPath).fileName()),
                   false);
    });
    connect(m_watcher, &DocumentWatcher::changed, this, [this] {
        showBanner(tr("%1 changed on disk after it was opened: what is shown may no longer be what the file "
                      "holds. <a href=\"reload\" style=\"color:white\">Reload</a> (F5)")
                       .arg(QFileInfo(m_currentPath).fileName().toHtmlEscaped()),
                   true, true);
    });

    m_splitter = new QSplitter(Qt::Horizontal, page);
    m_tree = new QTreeView(m_splitter);
    m_tree->setModel(m_proxy);
    m_tree->setSortingEnabled(true);
    m_tree->sortByColumn(-1, Qt::AscendingOrder); // file order until the user sorts
    m_tree->setUniformRowHeights(true);
    m_tree->setAlternatingRowColors(true);
    m_tree->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tabs = new QTabWidget(m_splitter);
    m_tensorPanel = new TensorPanel(m_tabs);
    m_fileInfoPanel = new FileInfoPanel(m_tabs);
    m_loadPanel = new LoadReportPanel(m_tabs);
    m_runPanel = new RunPanel(m_tabs);
    m_comparePanel = new ComparePanel(m_tabs);
    m_tabs->addTab(m_tensorPanel, tr("Tensor"));
    m_tabs->addTab(m_loadPanel, tr("Load report"));
    m_tabs->addTab(m_runPanel, tr("Run"));
    m_tabs->addTab(m_fileInfoPanel, tr("File"));
    m_tabs->addTab(m_comparePanel, tr("Compare"));
    m_splitter->addWidget(m_tree);
    m_splitter->addWidget(m_tabs);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    layout->addWidget(m_splitter, 1);
    m_stack->addWidget(page);
    setCentralWidget(m_stack);

    m_progress = new QProgressBar(this);
    m_progress->setMaximumWidth(260);
    m_progress->setTextVisible(true);
    m_progress->hide();
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->hide();
    m_statusText = new QLabel(this);
    m_statusText->setObjectName(QStringLiteral("statusText"));
    statusBar()->addWidget(m_statusText, 1);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_cancel);
    connect(m_cancel, &QPushButton::clicked, m_loader, &DocumentLoader::cancel);

    connect(m_welcome, &WelcomePage::openRequested, this, &MainWindow::openDialog);
    connect(m_welcome, &WelcomePage::demoRequested, this, &MainWindow::openDemo);
    connect(m_welcome, &WelcomePage::hubRequested, this, &MainWindow::openFromHub);
    connect(m_welcome, &WelcomePage::recentRequested, this, &MainWindow::openFile);
    connect(m_tree->selectionModel(), &QItemSelectionModel::currentChanged, this, &MainWindow::onCurrentChanged);
}

void MainWindow::setFilterNow(const QString &text)
{
    m_filter->setText(text);
    m_filterTimer->stop();
    applyFilter();
}

void MainWindow::applyFilter()
{
    m_proxy->setFilterFixedString(m_filter->text());
    if (!m_filter->text().isEmpty())
        m_tree->expandAll();
    // The view does not say when the filter took its current row away: the Tensor tab then
    // shows nothing rather than a tensor the tree no longer lists.
    if (!m_tree->currentIndex().isValid())
        onCurrentChanged();
}

bool MainWindow::isBusy() const
{
    return m_loader->isLoading() || m_referenceLoader->isLoading() || m_tensorPanel->isComputing() ||
           m_loadPanel->isComputing() || m_runPanel->isRunning() || m_comparePanel->isBusy();
}

void MainWindow::runModel()
{
    m_tabs->setCurrentWidget(m_runPanel);
    m_runPanel->run();
}

void MainWindow::updateRunPanel()
{
    // A TorchScript file or an exported program runs itself; a checkpoint runs in the
    // model it is checked against, with its weights applied by the Load report's rules.
    auto runnable = [](const std::shared_ptr<const Document> &d) {
        return d && (d->format == FileFormat::TorchScript || d->format == FileFormat::TorchExport);
    };
    if (runnable(m_doc))
        m_runPanel->setModel(m_doc, nullptr, {}, {});
    else if (m_doc && runnable(m_referenceDoc))
        m_runPanel->setModel(m_referenceDoc, m_doc, m_loadPanel->stateDict(), m_loadPanel->rules());
    else
        m_runPanel->setModel(nullptr, nullptr, {}, {});
    updateActions();
}

void MainWindow::setReference(const QString &path)
{
    m_reference = isHubReference(path.toStdString()) ? path : QFileInfo(path).absoluteFilePath();
    m_referenceDoc.reset();
    m_loadPanel->setReferenceName(QFileInfo(m_reference).fileName());
    m_referenceLoader->load(m_reference);
    updateStatus();
}

void MainWindow::clearReference()
{
    m_reference.clear();
    m_referenceDoc.reset();
    m_referenceLoader->cancel();
    m_loadPanel->setReferenceName({});
    m_loadPanel->setInputs(m_doc, nullptr);
    updateRunPanel();
    updateStatus();
}

void MainWindow::openFile(const QString &path)
{
    // A model on the Hub keeps its reference (hf:org/name); a local path becomes absolute.
    const bool remote = isHubReference(path.toStdString());
    m_currentPath = remote ? path : QFileInfo(path).absoluteFilePath();
    if (!remote)
        QSettings().setValue(QStringLiteral("lastFolder"), QFileInfo(path).absolutePath());
    m_progress->setValue(0);
    m_progress->show();
    m_cancel->show();
    statusBar()->showMessage(tr("Opening %1…").arg(path));
    m_loader->load(m_currentPath);
}

void MainWindow::reload()
{
    if (!m_currentPath.isEmpty())
        openFile(m_currentPath);
}

bool MainWindow::writeReport(const QString &path, bool markdown, QString *error) const
{
    if (!m_doc) {
        *error = tr("no document is open");
        return false;
    }
    const std::string text = markdown ? inspectMarkdown(*m_doc) : jsonText(inspectJson(*m_doc, false), 2) + "\n";
    // QSaveFile writes beside the target and renames, so a failure never leaves half a file.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly) || out.write(text.data(), static_cast<qint64>(text.size())) < 0 ||
        !out.commit()) {
        *error = out.errorString();
        return false;
    }
    return true;
}

// Every view of the document gets the same one (or none).
void MainWindow::setDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree)
{
    m_doc = std::move(doc);
    m_watcher->watch(m_doc);
    m_model->setDocument(m_doc, std::move(tree));
    m_tensorPanel->setDocument(m_doc);
    m_fileInfoPanel->setDocument(m_doc);
    m_loadPanel->setInputs(m_doc, m_referenceDoc);
    m_comparePanel->setDocumentA(m_doc);
    updateRunPanel();
    updateActions();
}

void MainWindow::showDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree)
{
    emit documentArriving();
    m_progress->hide();
    m_cancel->hide();
    statusBar()->clearMessage();
    setDocument(std::move(doc), std::move(tree));
    m_welcome->clearProblem();
    m_stack->setCurrentIndex(1);
    setWindowTitle(tr("%1 — Torch Explorer").arg(QFileInfo(m_currentPath).fileName()));
    m_recent->add(m_currentPath);

    // Open the tree two levels deep, so the structure shows at once.
    m_tree->expandToDepth(m_doc->entries.size() > 400 ? 0 : 1);
    // "Saved on" only matters when something was saved elsewhere than the CPU. The other
    // columns are all in view where the pane allows: values, then kinds, then names (down
    // to a quarter of the pane) give up width.
    const bool notAllCpu = std::any_of(m_doc->storages.begin(), m_doc->storages.end(),
                                       [](const StorageInfo &s) { return s.location != "cpu"; });
    m_tree->setColumnHidden(DocumentTreeModel::DeviceColumn, !notAllCpu);
    fitColumnsToView(m_tree, {{DocumentTreeModel::ShapeColumn},
                              {DocumentTreeModel::KindColumn},
                              {DocumentTreeModel::NameColumn, m_tree->viewport()->width() / 4}});

    const SecurityReport &r = m_doc->security;
    if (r.verdict == "dangerous") {
        QStringList names;
        for (const auto &g : r.globals)
            if (g.category == "dangerous")
                names << QString::fromStdString(g.name);
        names.removeDuplicates();
        QStringList libraries;
        for (const auto &n : r.nativeCode)
            libraries << QFileInfo(QString::fromStdString(n)).fileName();
        if (names.isEmpty() && !libraries.isEmpty())
            showBanner(tr("Dangerous: loading this package runs the compiled code it carries (%1). Nothing was "
                          "executed here; see the File tab.")
                           .arg(libraries.join(QStringLiteral(", "))),
                       true);
        else
            showBanner(tr("Dangerous: loading this file in Python would call %1. Nothing was executed here; see the "
                          "File tab.")
                           .arg(names.join(QStringLiteral(", "))),
                       true);
        m_tabs->setCurrentWidget(m_fileInfoPanel);
    } else if (!m_doc->error.empty()) {
        showBanner(tr("Only part of the file could be read: %1").arg(QString::fromStdString(m_doc->error)), true);
    } else {
        m_banner->hide();
    }
    // Select the first tensor so the Tensor tab shows something real.
    QModelIndex first;
    for (QModelIndex i = m_proxy->index(0, 0); i.isValid();) {
        if (m_proxy->data(i, DocumentTreeModel::TensorRole).toInt() >= 0) {
            first = i;
            break;
        }
        i = m_proxy->rowCount(i) ? m_proxy->index(0, 0, i) : i.siblingAtRow(i.row() + 1);
    }
    if (first.isValid())
        m_tree->setCurrentIndex(first);
    if (r.verdict != "dangerous")
        m_tabs->setCurrentWidget(m_referenceDoc ? static_cast<QWidget *>(m_loadPanel) : m_tensorPanel);
    m_tree->setFocus(); // the keyboard starts where the document is
    updateStatus();
    emit documentShown();
    if (!isBusy())
        emit idle();
}

void MainWindow::showError(const QString &path, const QString &message)
{
    m_progress->hide();
    m_cancel->hide();
    // The file shown before is closed (no action may act on it under the new name), and
    // the welcome page, not an empty document page, says what the file is and what to do.
    const QString name = QFileInfo(path).fileName();
    statusBar()->showMessage(tr("Could not open %1").arg(name), 10000);
    m_banner->hide();
    setDocument(nullptr, nullptr);
    updateStatus();
    setWindowTitle(tr("Torch Explorer"));
    // The reader's message starts with the path, which the title already names.
    QString detail = message;
    if (detail.startsWith(path + QStringLiteral(": ")))
        detail.remove(0, path.size() + 2);
    m_welcome->showProblem(tr("Could not open %1").arg(name), detail);
    m_stack->setCurrentIndex(0);
    emit documentShown();
    emit idle();
}

void MainWindow::showBanner(const QString &text, bool danger, bool rich) { m_banner->showMessage(text, danger, rich); }

void MainWindow::updateStatus()
{
    if (!m_doc) {
        m_statusText->clear();
        return;
    }
    std::map<std::string, uint64_t> bytesByDtype;
    for (const auto &e : m_doc->entries) {
        const TensorInfo &t = m_doc->tensors[static_cast<size_t>(e.tensor)];
        bytesByDtype[dtypeName(t.dtype)] += t.nbytes();
    }
    // What the file is in words (the producer), falling back to the format's short name.
    QStringList parts;
    parts << (m_doc->producer.empty() ? QString::fromLatin1(formatName(m_doc->format))
                                      : QString::fromStdString(m_doc->producer));
    const uint64_t elements = m_doc->parameterCount();
    parts << (elements == 1 ? tr("1 element") : tr("%1 elements").arg(QString::fromStdString(formatCount(elements))));
    for (const auto &[dtype, bytes] : bytesByDtype)
        parts << QStringLiteral("%1 (%2)").arg(QString::fromStdString(formatBytes(bytes)),
                                               QString::fromStdString(dtype));
    const size_t stateDicts = m_doc->stateDicts.size();
    parts << (stateDicts == 0   ? tr("no state dict")
              : stateDicts == 1 ? tr("1 state dict")
                                : tr("%1 state dicts").arg(stateDicts));
    parts << QString::fromStdString(m_doc->security.verdict);
    if (m_doc->remote) {
        const FetchStats fetched = documentFetchStats(*m_doc);
        parts << tr("from the Hub: %1 of %2 fetched")
                     .arg(QString::fromStdString(formatBytes(fetched.bytes)),
                          QString::fromStdString(formatBytes(m_doc->remote->totalBytes)));
    }
    if (!m_reference.isEmpty())
        parts << tr("reference: %1").arg(QFileInfo(m_reference).fileName());
    m_statusText->setText(parts.join(QStringLiteral("  ·  ")));
}

void MainWindow::onCurrentChanged()
{
    const QModelIndex current = m_tree->currentIndex();
    const int tensor = current.isValid() ? m_proxy->data(current, DocumentTreeModel::TensorRole).toInt() : -1;
    m_tensorPanel->showTensor(m_proxy->data(current, DocumentTreeModel::KeyRole).toString(), tensor);
    if (tensor >= 0)
        m_loadPanel->selectCheckpointKey(m_proxy->data(current, DocumentTreeModel::KeyRole).toString());
    // Follow the selection to the Tensor tab, unless the user is reading a report.
    if (tensor >= 0 && m_doc && m_doc->security.verdict != "dangerous" && m_tabs->currentWidget() == m_fileInfoPanel)
        m_tabs->setCurrentWidget(m_tensorPanel);
}

void MainWindow::copySelectedKeys()
{
    QStringList keys;
    for (const QModelIndex &i : m_tree->selectionModel()->selectedRows())
        keys << m_proxy->data(i, DocumentTreeModel::KeyRole).toString();
    if (!keys.isEmpty())
        QApplication::clipboard()->setText(keys.join(QLatin1Char('\n')));
}

void MainWindow::restoreSettings()
{
    QSettings settings;
    m_recent->load();
    if (!restoreGeometry(settings.value(QStringLiteral("geometry")).toByteArray())) {
        // First start: a comfortable size that still fits the screen with the window's
        // frame around it (1024x700 included).
        const QRect room = screen() ? screen()->availableGeometry() : QRect(0, 0, 1280, 800);
        resize(std::min(1200, room.width() * 19 / 20), std::min(760, room.height() * 9 / 10));
    }
    restoreState(settings.value(QStringLiteral("windowState")).toByteArray());
    if (!m_splitter->restoreState(settings.value(QStringLiteral("splitter")).toByteArray()))
        m_splitter->setSizes({640, 560});
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    settings.setValue(QStringLiteral("geometry"), saveGeometry());
    settings.setValue(QStringLiteral("windowState"), saveState());
    settings.setValue(QStringLiteral("splitter"), m_splitter->saveState());
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_loader->cancel();
    saveSettings();
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        openFile(urls.first().toLocalFile());
}

} // namespace te
