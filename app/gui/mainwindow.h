#pragma once
// The main window: toolbar, banner, document tree beside the Tensor and File tabs, and a
// status bar with the totals. It assembles widgets and routes signals; reading happens
// in DocumentLoader on a worker thread. Its menus, toolbar, keys and the file dialogs
// they open are in mainwindowactions.cpp.
#include "core/document/document.h"
#include "core/document/documenttree.h"

#include <QMainWindow>
#include <QStringList>
#include <memory>

class QAction;
class QLabel;
class QLineEdit;
class QMenu;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTimer;
class QTreeView;

namespace te {

class Banner;
class ComparePanel;
class DocumentLoader;
class DocumentWatcher;
class DocumentTreeModel;
class FileInfoPanel;
class LoadReportPanel;
class RecentFiles;
class RunPanel;
class DevicePicker;
class TensorPanel;
class WelcomePage;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    void openFile(const QString &path);
    // The model to check the open checkpoint against ("Check against…"). It stays when
    // another checkpoint opens (it is the model being checked against) until cleared.
    void setReference(const QString &path);
    // Compares the open file with another in the Compare tab (File → Compare with…).
    void compareWith(const QString &path);
    ComparePanel *comparePanel() const { return m_comparePanel; }
    void clearReference();
    QString reference() const { return m_reference; }
    std::shared_ptr<const Document> referenceDocument() const { return m_referenceDoc; }
    LoadReportPanel *loadReportPanel() const { return m_loadPanel; }
    RunPanel *runPanel() const { return m_runPanel; }
    std::shared_ptr<const Document> document() const { return m_doc; }
    bool isBusy() const;
    QTreeView *treeView() const { return m_tree; }
    static QString demoPath();
    // Opens the bundled demo checkpoint, checked against the demo model.
    void openDemo();
    // Shows the Run tab and runs the model there.
    void runModel();
    // Writes the inspect document (JSON) or its Markdown form; false with *error set.
    bool writeReport(const QString &path, bool markdown, QString *error) const;

    // Filters the tree at once, without the typing delay (used by --timing and tests).
    void setFilterNow(const QString &text);

signals:
    void documentArriving(); // the reader has finished; the window is about to show it
    void documentShown();    // loaded and displayed, or failed with a message
    void idle();             // nothing loading and no statistics computing

protected:
    void closeEvent(QCloseEvent *event) override;
    bool eventFilter(QObject *watched, QEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildActions();
    void buildFileMenu();
    void buildViewAndHelpMenus();
    void buildToolBar();
    void buildLayout();
    void updateActions();
    void showDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree);
    void setDocument(std::shared_ptr<const Document> doc, std::shared_ptr<const TreeNode> tree);
    void showError(const QString &path, const QString &message);
    void showBanner(const QString &text, bool danger, bool rich = false);
    void updateStatus();
    void openDialog();
    QString askForModelFile(const QString &title, const QString &label);
    void openFolderDialog();
    void openFromHubCache();
    void openFromHub();
    void checkAgainstDialog();
    void compareDialog();
    void updateRunPanel();
    void reload();
    void exportReport(bool markdown);
    void exportStateDict();
    void copySelectedKeys();
    void onCurrentChanged();
    void applyFilter();
    void restoreSettings();
    void saveSettings() const;

    DocumentLoader *m_loader;
    DocumentLoader *m_referenceLoader;
    DocumentTreeModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QStackedWidget *m_stack;
    WelcomePage *m_welcome;
    QSplitter *m_splitter;
    QTreeView *m_tree;
    QTabWidget *m_tabs;
    TensorPanel *m_tensorPanel;
    FileInfoPanel *m_fileInfoPanel;
    LoadReportPanel *m_loadPanel;
    RunPanel *m_runPanel;
    ComparePanel *m_comparePanel;
    DevicePicker *m_devices;
    Banner *m_banner;
    DocumentWatcher *m_watcher;
    QLineEdit *m_filter;
    QTimer *m_filterTimer;
    QProgressBar *m_progress;
    QPushButton *m_cancel;
    QLabel *m_statusText;
    RecentFiles *m_recent;
    QAction *m_reloadAction = nullptr;
    QAction *m_checkAction = nullptr;
    QAction *m_compareAction = nullptr;
    QAction *m_exportStateAction = nullptr;
    QAction *m_runAction = nullptr;
    QAction *m_stopAction = nullptr;
    QAction *m_findAction = nullptr;
    QMenu *m_exportMenu = nullptr;
    std::shared_ptr<const Document> m_doc;
    std::shared_ptr<const Document> m_referenceDoc;
    QString m_currentPath;
    QString m_reference;
};

} // namespace te
