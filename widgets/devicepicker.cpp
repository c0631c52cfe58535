#include "widgets/devicepicker.h"

#include "core/report/units.h"
#include "core/runtime/runtimeloader.h"

#include <QFutureWatcher>
#include <QStandardItemModel>
#include <QtConcurrent>

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
{
    addItem(tr("CPU"), QStringLiteral("cpu"));
    setToolTip(tr("Where models run"));
    setSizeAdjustPolicy(QComboBox::AdjustToContents);
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
    auto *watcher = new QFutureWatcher<Found>(this);
    connect(watcher, &QFutureWatcher<Found>::finished, this, [this, watcher] {
        watcher->deleteLater();
        const Found f = watcher->result();
        const QString current = device();
        blockSignals(true);
        clear();
        if (f.devices.empty()) {
            addItem(tr("CPU"), QStringLiteral("cpu"));
            addDisabled(this, tr("Running unavailable: %1").arg(f.error.left(120)));
        }
        bool cuda = false;
        for (const auto &d : f.devices) {
            QString label = QString::fromStdString(d.name);
            if (d.memoryBytes)
                label += QStringLiteral(" (%1)").arg(QString::fromStdString(formatBytes(d.memoryBytes)));
            addItem(QStringLiteral("%1 — %2").arg(QString::fromStdString(d.id), label), QString::fromStdString(d.id));
            cuda = cuda || d.id.rfind("cuda", 0) == 0;
        }
        if (!f.devices.empty() && !cuda)
            addDisabled(this, tr("CUDA — this libtorch build has no CUDA, or no GPU is present"));
        const int keep = findData(current);
        setCurrentIndex(keep >= 0 ? keep : 0);
        blockSignals(false);
        m_state = State::Done;
        emit discoveryFinished();
    });
    watcher->setFuture(QtConcurrent::run([] {
        Found f;
        std::string error;
        if (Runtime *rt = loadRuntime(&error))
            f.devices = rt->devices();
        else
            f.error = QString::fromStdString(error);
        return f;
    }));
}

} // namespace te
