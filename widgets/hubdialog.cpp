#include "widgets/hubdialog.h"

#include "core/hub/hubdownload.h"
#include "core/io/readerror.h"
#include "core/report/units.h"
#include "widgets/jobtracker.h"

#include <QDialogButtonBox>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace te {
namespace {

enum Column { PathColumn, SizeColumn, KindColumn, CachedColumn };

struct Listed {
    std::shared_ptr<const HubListing> listing;
    std::vector<bool> cached; // per file: its blob is in the local cache
    std::string error;
};

struct Fetched {
    DownloadResult result;
    std::string error;
    bool cancelled = false;
};

QString kindOf(const std::string &path)
{
    auto ends = [&](const char *s) {
        const std::string suffix(s);
        return path.size() >= suffix.size() && path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends(".safetensors") || ends(".bin") || ends(".pt") || ends(".pth") || ends(".ckpt"))
        return QObject::tr("weights");
    if (ends(".index.json"))
        return QObject::tr("shard index");
    if (path == "config.json")
        return QObject::tr("model config");
    if (ends(".json") || ends(".txt") || ends(".model"))
        return QObject::tr("tokenizer / settings");
    if (ends(".md"))
        return QObject::tr("model card");
    return QObject::tr("other");
}

QString filesText(size_t n) { return n == 1 ? QObject::tr("1 file") : QObject::tr("%1 files").arg(n); }

} // namespace

HubDialog::HubDialog(QWidget *parent)
    : QDialog(parent)
    , m_settings(HubSettings::fromEnvironment())
    , m_listJobs(new JobTracker(this))
    , m_downloadJobs(new JobTracker(this))
    , m_model(new QLineEdit(this))
    , m_revision(new QLineEdit(this))
    , m_list(new QPushButton(tr("&List files"), this))
    , m_files(new QTreeWidget(this))
    , m_status(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_download(new QPushButton(tr("&Download"), this))
    , m_cancel(new QPushButton(tr("Stop download"), this))
{
    setWindowTitle(tr("Open from Hugging Face Hub"));
    resize(760, 480);
    auto *layout = new QVBoxLayout(this);
    auto *form = new QGridLayout;
    m_model->setPlaceholderText(tr("org/name, or https://huggingface.co/org/name"));
    m_revision->setPlaceholderText(QStringLiteral("main"));
    m_revision->setMaximumWidth(160);
    form->addWidget(new QLabel(tr("&Model:"), this), 0, 0);
    form->addWidget(m_model, 0, 1);
    form->addWidget(new QLabel(tr("&Revision:"), this), 0, 2);
    form->addWidget(m_revision, 0, 3);
    form->addWidget(m_list, 0, 4);
    qobject_cast<QLabel *>(form->itemAtPosition(0, 0)->widget())->setBuddy(m_model);
    qobject_cast<QLabel *>(form->itemAtPosition(0, 2)->widget())->setBuddy(m_revision);
    form->setColumnStretch(1, 1);
    layout->addLayout(form);
    auto *where =
        new QLabel(tr("Hub: %1 · %2 · cache: %3")
                       .arg(QString::fromStdString(m_settings.endpoint),
                            m_settings.offline         ? tr("offline (HF_HUB_OFFLINE): only cached models open")
                            : m_settings.token.empty() ? tr("no token (gated and private models need HF_TOKEN)")
                                                       : tr("token set"),
                            QString::fromStdString(m_settings.cacheRoot)),
                   this);
    where->setWordWrap(true);
    where->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(where);
    m_files->setHeaderLabels({tr("File"), tr("Size"), tr("Kind"), tr("In cache")});
    m_files->setRootIsDecorated(false);
    m_files->header()->setStretchLastSection(false);
    m_files->header()->setSectionResizeMode(PathColumn, QHeaderView::Stretch);
    layout->addWidget(m_files, 1);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);
    m_progress->setVisible(false);
    layout->addWidget(m_progress);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Open | QDialogButtonBox::Close, this);
    m_open = buttons->button(QDialogButtonBox::Open);
    m_open->setToolTip(tr("Read the model over the network, fetching only what is shown (the cache first)"));
    m_download->setToolTip(tr("Download the ticked files into the local Hugging Face cache"));
    buttons->addButton(m_download, QDialogButtonBox::ActionRole);
    buttons->addButton(m_cancel, QDialogButtonBox::ActionRole);
    m_cancel->setVisible(false);
    layout->addWidget(buttons);

    // Return in the boxes lists the files; opening is a click (or a double-click on a file).
    m_list->setDefault(true);
    m_open->setAutoDefault(false);
    m_download->setAutoDefault(false);
    m_cancel->setAutoDefault(false);
    buttons->button(QDialogButtonBox::Close)->setAutoDefault(false);
    connect(m_list, &QPushButton::clicked, this, &HubDialog::list);
    connect(m_model, &QLineEdit::textChanged, this, &HubDialog::updateButtons);
    connect(m_download, &QPushButton::clicked, this, &HubDialog::download);
    connect(m_cancel, &QPushButton::clicked, m_downloadJobs, &JobTracker::cancel);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_open, &QPushButton::clicked, this, [this] { openSelection(nullptr); });
    connect(m_files, &QTreeWidget::itemActivated, this, [this](QTreeWidgetItem *item) { openSelection(item); });
    connect(m_files, &QTreeWidget::itemChanged, this, &HubDialog::updateButtons);
    m_status->setText(tr("Name a model and list its files, or open it straight away."));
    updateButtons();
}

void HubDialog::setModel(const QString &text) { m_model->setText(text); }

QString HubDialog::status() const { return m_status->text(); }

bool HubDialog::typedReference(HubRef *ref)
{
    const std::string text = m_model->text().trimmed().toStdString();
    if (text.empty()) {
        m_status->setText(tr("Name a model first: org/name, or its address on huggingface.co."));
        return false;
    }
    try {
        *ref = parseHubReference(isHubReference(text) ? text : "hf:" + text, m_settings);
    } catch (const ReadError &e) {
        m_status->setText(QString::fromStdString(e.message()));
        return false;
    }
    if (!m_revision->text().trimmed().isEmpty())
        ref->revision = m_revision->text().trimmed().toStdString();
    return true;
}

void HubDialog::list()
{
    HubRef ref;
    if (!typedReference(&ref)) {
        emit listed();
        return;
    }
    ref.file.clear();
    m_files->clear();
    m_listing.reset();
    m_status->setText(
        tr("Listing %1 at %2…").arg(QString::fromStdString(ref.repo), QString::fromStdString(ref.revision)));
    updateButtons();
    const HubSettings settings = m_settings;
    m_listJobs->start(
        [settings, ref](const JobControl &job) {
            Listed out;
            try {
                auto listing = std::make_shared<HubListing>(HubClient(settings).list(ref, job.cancelFlag()));
                const QString blobs =
                    QString::fromStdString(hubRepoFolder(settings.cacheRoot, ref.repo)) + QStringLiteral("/blobs/");
                for (const auto &f : listing->files)
                    out.cached.push_back(QFileInfo::exists(blobs + QString::fromStdString(f.etag())));
                out.listing = std::move(listing);
            } catch (const ReadError &e) {
                out.error = e.message();
            } catch (const Cancelled &) {
                out.error = "stopped";
            }
            return out;
        },
        [this](const Listed &l) {
            if (!l.listing) {
                m_status->setText(QString::fromStdString(l.error));
            } else {
                showListing(*l.listing);
                for (int i = 0; i < m_files->topLevelItemCount() && i < static_cast<int>(l.cached.size()); ++i)
                    m_files->topLevelItem(i)->setText(CachedColumn,
                                                      l.cached[static_cast<size_t>(i)] ? tr("yes") : QString());
            }
            updateButtons();
            emit listed();
        });
}

void HubDialog::showListing(const HubListing &listing)
{
    m_listing = std::make_shared<HubListing>(listing);
    const QSignalBlocker block(m_files);
    m_files->clear();
    for (const auto &f : listing.files) {
        auto *item =
            new QTreeWidgetItem(m_files, {QString::fromStdString(f.path), QString::fromStdString(formatBytes(f.size)),
                                          kindOf(f.path), QString()});
        item->setCheckState(PathColumn, Qt::Checked);
        item->setTextAlignment(SizeColumn, Qt::AlignRight | Qt::AlignVCenter);
        item->setToolTip(PathColumn, f.lfs() ? tr("sha256 %1").arg(QString::fromStdString(f.sha256))
                                             : tr("git blob %1").arg(QString::fromStdString(f.blobId)));
    }
    for (int c = SizeColumn; c <= CachedColumn; ++c)
        m_files->resizeColumnToContents(c);
    m_status->setText(tr("%1, %2, at commit %3. Open reads only what is needed; double-click a file to open it alone.")
                          .arg(filesText(listing.files.size()),
                               QString::fromStdString(formatBytes(listing.totalBytes())),
                               QString::fromStdString(listing.commit.substr(0, 12))));
}

std::vector<std::string> HubDialog::tickedFiles() const
{
    std::vector<std::string> files;
    for (int i = 0; i < m_files->topLevelItemCount(); ++i)
        if (m_files->topLevelItem(i)->checkState(PathColumn) == Qt::Checked)
            files.push_back(m_files->topLevelItem(i)->text(PathColumn).toStdString());
    return files;
}

void HubDialog::updateButtons()
{
    const bool downloading = m_downloadJobs->isRunning();
    const std::vector<std::string> ticked = tickedFiles();
    uint64_t bytes = 0;
    if (m_listing)
        for (const auto &path : ticked)
            if (const HubFile *f = m_listing->find(path))
                bytes += f->size;
    m_download->setEnabled(m_listing && !ticked.empty() && !downloading && !m_settings.offline);
    m_download->setText(m_listing && !ticked.empty()
                            ? tr("&Download %1").arg(QString::fromStdString(formatBytes(bytes)))
                            : tr("&Download"));
    m_download->setToolTip(m_settings.offline ? tr("Offline (HF_HUB_OFFLINE): nothing can be downloaded")
                           : !m_listing       ? tr("List the files first")
                           : ticked.empty()   ? tr("Tick the files to download")
                                              : tr("Download the ticked files into the local Hugging Face cache"));
    m_cancel->setVisible(downloading);
    m_open->setEnabled(!m_model->text().trimmed().isEmpty() && !downloading);
    m_list->setEnabled(!downloading);
}

void HubDialog::openSelection(QTreeWidgetItem *item)
{
    HubRef ref;
    if (!typedReference(&ref))
        return;
    if (item)
        ref.file = item->text(PathColumn).toStdString();
    m_reference = QString::fromStdString(hubReferenceText(ref));
    accept();
}

void HubDialog::download()
{
    if (!m_listing)
        return;
    const std::vector<std::string> files = tickedFiles();
    auto listing = m_listing;
    const HubSettings settings = m_settings;
    m_progress->setValue(0);
    m_progress->setVisible(true);
    m_status->setText(tr("Downloading %1…").arg(filesText(files.size())));
    m_downloadJobs->start(
        [settings, listing, files](const JobControl &job) {
            Fetched out;
            try {
                out.result = downloadToCache(
                    HubClient(settings), *listing, files, job.cancelFlag(), [&job](const DownloadProgress &p) {
                        const int percent = p.total ? static_cast<int>(100.0 * p.done / p.total) : 100;
                        job.setProgress(percent, QString::fromStdString(p.file + ": " + formatBytes(p.fileDone) +
                                                                        " of " + formatBytes(p.fileSize)));
                    });
            } catch (const ReadError &e) {
                out.error = e.what();
            } catch (const Cancelled &) {
                out.cancelled = true;
            }
            return out;
        },
        [this](const Fetched &f) {
            m_progress->setVisible(false);
            if (f.cancelled)
                m_status->setText(tr("Download stopped; what was fetched is kept and the next download resumes it."));
            else if (!f.error.empty())
                m_status->setText(tr("Download failed: %1").arg(QString::fromStdString(f.error)));
            else
                m_status->setText(tr("Downloaded into %1: %2 fetched, %3 resumed, %4 already cached. Open now reads "
                                     "the cached copy.")
                                      .arg(QString::fromStdString(f.result.snapshot),
                                           QString::fromStdString(formatBytes(f.result.downloaded)),
                                           QString::fromStdString(formatBytes(f.result.resumed)),
                                           QString::fromStdString(formatBytes(f.result.reused))));
            if (f.error.empty() && !f.cancelled)
                for (int i = 0; i < m_files->topLevelItemCount(); ++i)
                    if (m_files->topLevelItem(i)->checkState(PathColumn) == Qt::Checked)
                        m_files->topLevelItem(i)->setText(CachedColumn, tr("yes"));
            updateButtons();
            emit downloaded();
        },
        [this](int percent, const QString &label) {
            m_progress->setValue(percent);
            m_status->setText(tr("Downloading… %1").arg(label));
        });
    updateButtons();
}

} // namespace te
