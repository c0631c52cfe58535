#pragma once
// The device combo of the toolbar. It lists CPU until the user opens it; then the runtime
// library is loaded on a worker thread and every device it can use is listed, with
// disabled entries saying why a kind of device is not offered.
#include "core/runtime/runtimeapi.h"

#include <QComboBox>
#include <vector>

namespace te {

class JobTracker;

class DevicePicker : public QComboBox {
    Q_OBJECT
public:
    explicit DevicePicker(QWidget *parent = nullptr);
    QString device() const;
    void discover(); // loads the runtime off the GUI thread, then fills the list
    bool discovered() const { return m_state == State::Done; }

signals:
    void deviceChanged(const QString &device);
    void discoveryFinished();

protected:
    void showPopup() override;

private:
    enum class State { Idle, Running, Done };
    void fill(const std::vector<RuntimeDevice> &devices, const QString &error);

    State m_state = State::Idle;
    JobTracker *m_jobs;
};

} // namespace te
