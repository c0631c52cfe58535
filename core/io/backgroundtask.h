#pragma once
// One piece of work run on a second thread beside the caller's own, for the passes of a
// reader or a report that do not depend on each other. The task is always joined: by
// finish(), which rethrows what the task threw, or by the destructor, which drops it
// (the caller is already leaving by an exception of its own).
#include <exception>
#include <functional>
#include <thread>
#include <utility>

namespace te {

class BackgroundTask {
public:
    explicit BackgroundTask(std::function<void()> work)
        : m_thread([this, work = std::move(work)] {
            try {
                work();
            } catch (...) {
                m_error = std::current_exception();
            }
        })
    { }
    ~BackgroundTask() { wait(); }
    BackgroundTask(const BackgroundTask &) = delete;
    BackgroundTask &operator=(const BackgroundTask &) = delete;

    // Waits for the task; true when it ended without throwing.
    bool wait()
    {
        if (m_thread.joinable())
            m_thread.join();
        return !m_error;
    }
    // Waits for the task and rethrows what it threw, once.
    void finish()
    {
        if (!wait())
            std::rethrow_exception(std::exchange(m_error, nullptr));
    }

private:
    std::exception_ptr m_error;
    std::thread m_thread; // last: it starts once m_error exists
};

} // namespace te
