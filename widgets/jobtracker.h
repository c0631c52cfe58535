#pragma once
// "The latest job wins": runs work on the thread pool and hands its result to the thread
// of the tracker, but only the result of the job started last, and only while the tracker
// lives. Starting a job cancels the one before it, and so does destroying the tracker: the
// work sees the flag in its loop and stops early.
// Own the tracker by the object its callbacks use (a child or a member), so that a result
// can never reach a dead owner; the work holds its own data (copies, shared pointers),
// never the owner, because it may outlive it.
#include "core/io/mappedfile.h"

#include <QFutureWatcher>
#include <QObject>
#include <QPromise>
#include <QString>
#include <QtConcurrentRun>
#include <atomic>
#include <functional>
#include <memory>
#include <type_traits>

namespace te {

// What a running job sees: whether it should stop, and where to say how far it is.
class JobControl {
public:
    using Progress = std::function<void(int percent, const QString &label)>;

    JobControl(std::shared_ptr<const std::atomic<bool>> cancel, Progress progress)
        : m_cancel(std::move(cancel))
        , m_progress(std::move(progress))
    { }
    bool isCancelled() const { return m_cancel->load(); }
    // For core functions that poll a flag themselves.
    const std::atomic<bool> *cancelFlag() const { return m_cancel.get(); }
    // percent from 0 to 100; reaches the tracker's progress callback while the job is the latest.
    void setProgress(int percent, const QString &label) const
    {
        if (m_progress)
            m_progress(percent, label);
    }

private:
    std::shared_ptr<const std::atomic<bool>> m_cancel;
    Progress m_progress;
};

class JobTracker : public QObject {
    Q_OBJECT
public:
    explicit JobTracker(QObject *parent = nullptr);
    ~JobTracker() override; // cancels the running job; its result is never delivered

    // Runs work(const JobControl &) on the global thread pool. When it returns, done(result)
    // runs on this tracker's thread, unless another job was started or discard() called
    // since. progress(percent, label) gets what the work reports, while it is the latest.
    // The work reports failures in its result: if it throws, nothing is delivered.
    template <typename Work, typename Done> void start(Work work, Done done, JobControl::Progress progress = {});

    // Asks the running job to stop; its result (which says that it stopped) still comes.
    void cancel();
    // Cancels the running job and drops its result: the owner has moved on.
    void discard();
    // From start() until the latest job's result is delivered, or discard().
    bool isRunning() const { return m_running; }

private:
    // Cancels and drops the previous job; the new one's flag is m_cancel.
    quint64 begin();
    bool isLatest(quint64 generation) const { return generation == m_generation; }

    quint64 m_generation = 0;
    bool m_running = false;
    std::shared_ptr<std::atomic<bool>> m_cancel;
};

template <typename Work, typename Done> void JobTracker::start(Work work, Done done, JobControl::Progress progress)
{
    using Result = std::decay_t<std::invoke_result_t<Work &, const JobControl &>>;
    static_assert(!std::is_void_v<Result>, "a job hands its result back by value");
    const quint64 generation = begin();
    std::shared_ptr<const std::atomic<bool>> cancel = m_cancel;
    auto *watcher = new QFutureWatcher<Result>(this);
    if (progress) {
        connect(watcher, &QFutureWatcherBase::progressValueChanged, this,
                [this, watcher, generation, progress = std::move(progress)](int value) {
                    if (isLatest(generation))
                        progress(value, watcher->progressText());
                });
    }
    connect(watcher, &QFutureWatcherBase::finished, this,
            [this, watcher, generation, done = std::move(done)]() mutable {
                watcher->deleteLater();
                if (!isLatest(generation))
                    return; // a newer job is on its way, or the owner moved on
                m_running = false;
                if (watcher->future().resultCount() > 0)
                    done(watcher->result());
            });
    watcher->setFuture(QtConcurrent::run([work = std::move(work), cancel](QPromise<Result> &promise) mutable {
        promise.setProgressRange(0, 100);
        const JobControl control(
            cancel, [&promise](int percent, const QString &label) { promise.setProgressValueAndText(percent, label); });
        // Bytes of a remote model fetched by the work (a tensor's values from the Hub) say
        // how far they are, and stop with the job.
        const FetchScope fetching(cancel.get(), [&promise](uint64_t done, uint64_t total) {
            if (total >= (uint64_t(1) << 20))
                promise.setProgressValueAndText(
                    static_cast<int>(100.0 * static_cast<double>(done) / total),
                    QObject::tr("fetching %1 MiB of %2 MiB from the Hub").arg(done >> 20).arg(total >> 20));
        });
        promise.addResult(work(control));
    }));
}

} // namespace te
