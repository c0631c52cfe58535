#include "widgets/hubcachedialog.h"

#include "core/report/units.h"
#include "widgets/jobtracker.h"

#include <QDialogButtonBox>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace te {

namespace {
enum Role { FolderRole = Qt::UserRole + 1, SpecRole, SizeRole };
}

HubCacheDialog::HubCacheDialog(const QString &root, QWidget *parent)
    : QDialog(parent)
    , m_root(root)
    , m_jobs(new JobTracker(this))
    , m_search(new QLineEdit(this))
    , m_tree(new QTreeWidget(this))
    , m_status(new QLabel(this))
{
    setWindowTitle(tr("Open from the Hugging Face cache"));
    resize(720, 440);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(new QLabel(tr("Cache: %1").arg(root), this));
    m_search->setPlaceholderText(tr("Search models…"));
    m_search->setClearButtonEnabled(true);
    layout->addWidget(m_search);
    m_tree->setHeaderLabels({tr("Model / revision"), tr("Size"), tr("Files"), tr("State")});
    m_tree->header()->setStretchLastSection(true);
    layout->addWidget(m_tree, 1);
    layout->addWidget(m_status);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Cancel, this);
    m_open = buttons->button(QDialogButtonBox::Open);
    m_open->setEnabled(false);
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_search, &QLineEdit::textChanged, this, &HubCacheDialog::applyFilter);
    connect(m_tree, &QTreeWidget::currentItemChanged, this,
            [this] { m_open->setEnabled(!selectedFolder().isEmpty()); });
    connect(m_tree, &QTreeWidget::itemActivated, this, [this] {
        if (!selectedFolder().isEmpty())
            accept();
    });

    m_status->setText(tr("Reading the cache…"));
    const std::string path = root.toStdString();
    m_jobs->start([path](const JobControl &) { return listHubCache(path); },
                  [this](const std::vector<CachedModel> &models) {
                      fill(models);
                      emit listed();
                  });
}

void HubCacheDialog::fill(const std::vector<CachedModel> &models)
{
    m_tree->clear();
    for (const auto &m : models) {
        auto *model = new QTreeWidgetItem(m_tree, {QString::fromStdString(m.repo),
                                                   QString::fromStdString(formatBytes(m.bytes)),
                                                   QString::number(m.snapshots.size()) + tr(" revisions"),
                                                   {}});
        for (const auto &s : m.snapshots) {
            QStringList refs;
            for (const auto &r : s.revisions)
                refs << QString::fromStdString(r);
            const QString label = refs.isEmpty()
                                      ? QString::fromStdString(s.commit.substr(0, 12))
                                      : QStringLiteral("%1 (%2)").arg(refs.join(QStringLiteral(", ")),
                                                                      QString::fromStdString(s.commit.substr(0, 12)));
            auto *rev = new QTreeWidgetItem(
                model,
                {label, QString::fromStdString(formatBytes(s.bytes)), QString::number(s.files.size()),
                 s.complete ? tr("complete") : tr("incomplete: missing %1").arg(QString::fromStdString(s.missing))});
            rev->setData(0, FolderRole, QString::fromStdString(m.folder + "/snapshots/" + s.commit));
            rev->setData(0, SpecRole,
                         QString::fromStdString(m.repo) + QLatin1Char('@') +
                             (refs.isEmpty() ? QString::fromStdString(s.commit) : refs.first()));
            if (!s.complete)
                rev->setForeground(3, QColor(230, 126, 34));
        }
        model->setExpanded(true);
    }
    for (int c = 0; c < m_tree->columnCount(); ++c)
        m_tree->resizeColumnToContents(c);
    m_status->setText(models.empty() ? tr("No models in this cache.")
                                     : tr("%n model(s)", nullptr, static_cast<int>(models.size())));
    applyFilter();
}

void HubCacheDialog::applyFilter()
{
    const QString text = m_search->text().trimmed();
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i) {
        QTreeWidgetItem *item = m_tree->topLevelItem(i);
        item->setHidden(!text.isEmpty() && !item->text(0).contains(text, Qt::CaseInsensitive));
    }
}

QString HubCacheDialog::selectedFolder() const
{
    const QTreeWidgetItem *item = m_tree->currentItem();
    return item ? item->data(0, FolderRole).toString() : QString();
}

QString HubCacheDialog::selectedSpec() const
{
    const QTreeWidgetItem *item = m_tree->currentItem();
    return item ? item->data(0, SpecRole).toString() : QString();
}

} // namespace te
