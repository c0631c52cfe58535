#include "widgets/exportdialog.h"

#include "core/document/document.h"
#include "core/export/documentexport.h"
#include "core/io/readerror.h"
#include "core/report/units.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

namespace te {
namespace {

enum Format { TorchFile, SafetensorsFile, SafetensorsFolder };

struct ExportOutcome {
    bool ok = false;
    QString message;
    QStringList files;
};

} // namespace

ExportDialog::ExportDialog(std::shared_ptr<const Document> doc, const QString &base, QWidget *parent)
    : QDialog(parent)
    , m_doc(std::move(doc))
    , m_base(base)
{
    setWindowTitle(tr("Export state dict"));
    m_stateDict = new QComboBox(this);
    m_stateDict->addItem(tr("Every tensor, under its full key (%1)").arg(m_doc->entries.size()));
    for (const std::string &sd : m_doc->stateDicts) {
        const QString name = sd.empty() ? tr("the state dict at the root") : QString::fromStdString(sd);
        m_stateDict->addItem(tr("%1 (keys without its prefix)").arg(name), QString::fromStdString(sd));
    }
    // One state dict below the root (a checkpoint's model): that is what people export.
    if (m_doc->stateDicts.size() == 1 && !m_doc->stateDicts.front().empty())
        m_stateDict->setCurrentIndex(1);
    m_format = new QComboBox(this);
    m_format->addItem(tr("PyTorch file (.pt): torch.load reads it"));
    m_format->addItem(tr("safetensors file"));
    m_format->addItem(tr("safetensors folder (save_pretrained's layout: shards and an index)"));
    m_shardSize = new QLineEdit(QStringLiteral("5GB"), this);
    m_shardSize->setToolTip(
        tr("The largest shard: 5GB, 500MB, 2GiB…; a tensor bigger than this gets a shard of its own"));
    m_target = new QLineEdit(this);
    auto *browse = new QPushButton(tr("&Browse…"), this);
    auto *targetRow = new QHBoxLayout;
    targetRow->addWidget(m_target, 1);
    targetRow->addWidget(browse);

    auto *form = new QFormLayout;
    form->addRow(tr("&Tensors:"), m_stateDict);
    form->addRow(tr("&Format:"), m_format);
    form->addRow(tr("&Largest shard:"), m_shardSize);
    auto *targetLabel = new QLabel(tr("&Save to:"), this);
    targetLabel->setBuddy(m_target);
    form->addRow(targetLabel, targetRow);

    m_summary = new QLabel(this);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 100);
    m_progress->hide();

    auto *buttons = new QDialogButtonBox(this);
    m_export = buttons->addButton(tr("&Export"), QDialogButtonBox::AcceptRole);
    m_stop = buttons->addButton(tr("S&top"), QDialogButtonBox::ActionRole);
    m_close = buttons->addButton(QDialogButtonBox::Close);
    m_export->setDefault(true);
    m_stop->hide();

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_summary);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(buttons);

    connect(m_stateDict, &QComboBox::currentIndexChanged, this, &ExportDialog::updateChoices);
    connect(m_format, &QComboBox::currentIndexChanged, this, [this] {
        // The suggested name follows the format while the user has not typed another.
        const QFileInfo info(m_base);
        const QString stem = info.absoluteDir().filePath(info.completeBaseName() + QStringLiteral("-export"));
        const QStringList suggestions = {stem + QStringLiteral(".pt"), stem + QStringLiteral(".safetensors"), stem};
        if (m_target->text().isEmpty() || suggestions.contains(m_target->text()))
            m_target->setText(suggestions[m_format->currentIndex()]);
        updateChoices();
    });
    connect(browse, &QPushButton::clicked, this, &ExportDialog::browse);
    connect(m_export, &QPushButton::clicked, this, &ExportDialog::startExport);
    connect(m_stop, &QPushButton::clicked, &m_job, &JobTracker::cancel);
    connect(m_close, &QPushButton::clicked, this, &QDialog::reject);
    const QFileInfo info(m_base);
    m_target->setText(info.absoluteDir().filePath(info.completeBaseName() + QStringLiteral("-export.pt")));
    updateChoices();
    resize(620, sizeHint().height());
}

void ExportDialog::updateChoices()
{
    m_shardSize->setEnabled(m_format->currentIndex() == SafetensorsFolder);
    const QVariant sd = m_stateDict->currentData();
    const auto tensors =
        exportSelection(*m_doc, sd.isValid() ? std::optional<std::string>(sd.toString().toStdString()) : std::nullopt);
    uint64_t bytes = 0;
    size_t unreadable = 0;
    for (const NamedTensor &n : tensors) {
        const TensorInfo &t = m_doc->tensors[static_cast<size_t>(n.tensor)];
        bytes += t.nbytes();
        unreadable += t.error.empty() ? 0 : 1;
    }
    QString text = (tensors.size() == 1 ? tr("1 tensor, %2") : tr("%1 tensors, %2"))
                       .arg(tensors.size())
                       .arg(QString::fromStdString(formatBytes(bytes)));
    if (unreadable)
        text += tr("; %1 cannot be read, so the export would fail").arg(unreadable);
    m_summary->setText(text);
    m_export->setEnabled(!tensors.empty() && !m_job.isRunning());
}

void ExportDialog::browse()
{
    QString path;
    if (m_format->currentIndex() == SafetensorsFolder)
        path = QFileDialog::getExistingDirectory(this, tr("Export into folder"), m_target->text());
    else
        path = QFileDialog::getSaveFileName(this, tr("Export state dict"), m_target->text(),
                                            m_format->currentIndex() == TorchFile ? tr("PyTorch (*.pt *.pth *.bin)")
                                                                                  : tr("safetensors (*.safetensors)"));
    if (!path.isEmpty())
        m_target->setText(path);
}

void ExportDialog::startExport()
{
    ExportRequest request;
    request.target = m_target->text().trimmed().toStdString();
    const int format = m_format->currentIndex();
    request.format = format == TorchFile ? ExportFormat::TorchSave : ExportFormat::Safetensors;
    if (format == SafetensorsFile && !m_target->text().endsWith(QStringLiteral(".safetensors")))
        request.target += ".safetensors";
    if (format == SafetensorsFolder && m_target->text().endsWith(QStringLiteral(".safetensors"))) {
        m_status->setText(
            tr("A folder is asked for: choose a name without .safetensors, or the safetensors file format"));
        return;
    }
    if (request.target.empty()) {
        m_status->setText(tr("Choose where to save it first"));
        return;
    }
    if (format == SafetensorsFolder &&
        !parseByteSize(m_shardSize->text().trimmed().toStdString(), &request.maxShardBytes)) {
        m_status->setText(tr("\"%1\" is not a size: write 5GB, 500MB or 2GiB").arg(m_shardSize->text()));
        return;
    }
    const QVariant sd = m_stateDict->currentData();
    if (sd.isValid())
        request.stateDict = sd.toString().toStdString();
    m_status->setText(tr("Writing…"));
    m_progress->setValue(0);
    m_progress->show();
    m_export->setEnabled(false);
    m_stop->show();
    m_close->setEnabled(false);
    m_job.start(
        [doc = m_doc, request](const JobControl &control) {
            ExportOutcome out;
            ExportOptions options;
            options.cancel = control.cancelFlag();
            options.progress = [&control](uint64_t done, uint64_t total) {
                control.setProgress(total ? static_cast<int>(done * 100 / total) : 100,
                                    QString::fromStdString(formatBytes(done) + " of " + formatBytes(total)));
            };
            try {
                const ExportResult r = exportDocument(*doc, request, options);
                out.ok = true;
                for (const auto &f : r.files)
                    out.files << QString::fromStdString(f);
                out.message =
                    QObject::tr("Exported %1 %2, %3, to %4")
                        .arg(r.tensors)
                        .arg(r.tensors == 1 ? QObject::tr("tensor") : QObject::tr("tensors"))
                        .arg(QString::fromStdString(formatBytes(r.bytes)),
                             out.files.size() == 1 ? out.files.front() : QString::fromStdString(request.target));
            } catch (const Cancelled &) {
                out.message = QObject::tr("Stopped; nothing was written in the target's place");
            } catch (const std::exception &e) {
                out.message = QString::fromStdString(e.what());
            }
            return out;
        },
        [this](const ExportOutcome &out) { finished(out.ok, out.message, out.files); },
        [this](int percent, const QString &label) {
            m_progress->setValue(percent);
            m_progress->setFormat(label);
        });
}

void ExportDialog::finished(bool ok, const QString &message, const QStringList &files)
{
    m_progress->hide();
    m_stop->hide();
    m_close->setEnabled(true);
    m_status->setText(message);
    if (ok)
        m_written = files;
    updateChoices();
}

} // namespace te
