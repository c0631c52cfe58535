#include "widgets/devicepicker.h"

#include "core/report/units.h"
#include "core/runtime/runtimeloader.h"
#include "widgets/jobtracker.h"

#include <QStandardItemModel>

namespace te {
namespace {

struct Found {
    std::vector<RuntimeDevice> devices;
    QString error;
};

void addDisabled(QComboBox *box, const QString &text)
{
    box->addItem(text);
    if (auto *m = qobject_cast<QStandardItemModel *>(box->model()))
        m->item(box->count() - 1)->setEnabled(false);
}

} // namespace

DevicePicker::DevicePicker(QWidget *parent)
    : QComboBox(parent)
    , m_jobs(new JobTracker(this))
{
    addItem(tr("CPU"), QStringLiteral("cpu"));
    setToolTip(tr("Where models run"));
    // A steady width: the list that arrives later ("cpu — CPU", GPU names) must not push
    // the toolbar; longer names elide, the tooltip of each item has it whole.
    setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    setMinimumContentsLength(12);
    connect(this, &QComboBox::currentIndexChanged, this, [this] { emit deviceChanged(device()); });
}

QString DevicePicker::device() const
{
    const QString id = currentData().toString();
    return id.isEmpty() ? QStringLiteral("cpu") : id;
}

void DevicePicker::showPopup()
{
    if (m_state == State::Idle)
        discover();
    QComboBox::showPopup();
}

void DevicePicker::discover()
{
    if (m_state != State::Idle)
        return;
    m_state = State::Running;
    m_jobs->start(
        [](const JobControl &) {
            Found f;
            std::string error;
            if (Runtime *rt = loadRuntime(&error))
                f.devices = rt->devices();
            else
                f.error = QString::fromStdString(error);
            return f;
        },
        [this](const Found &f) {
            fill(f.devices, f.error);
            m_state = State::Done;
            emit discoveryFinished();
        });
}

// Keeps the device chosen so far when it is still there.
void DevicePicker::fill(const std::vector<RuntimeDevice> &devices, const QString &error)
{
    const QString current = device();
    blockSignals(true);
    clear();
    if (devices.empty()) {
        addItem(tr("CPU"), QStringLiteral("cpu"));
        addDisabled(this, tr("Running unavailable: %1").arg(error.left(120)));
    }
    bool cuda = false;
    for (const auto &d : devices) {
        QString label = QString::fromStdString(d.name);
        if (d.memoryBytes)
            label += QStringLiteral(" (%1)").arg(QString::fromStdString(formatBytes(d.memoryBytes)));
        addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(d.id), label), QString::fromStdString(d.id));
        cuda = cuda || d.id.rfind("cuda", 0) == 0;
    }
    if (!devices.empty() && !cuda)
        addDisabled(this, tr("CUDA — this libtorch build has no CUDA, or no GPU is present"));
    const int keep = findData(current);
    setCurrentIndex(keep >= 0 ? keep : 0);
    blockSignals(false);
}

} // namespace te
