// The "latest job wins" helper: a result arrives on the tracker's thread; a newer job
// cancels the one before and only its result arrives; cancel() still delivers, discard()
// and the tracker's end drop the result and stop the work; progress comes from the latest
// job only.
#include "widgets/jobtracker.h"

#include <QElapsedTimer>
#include <QThread>
#include <QThreadPool>
#include <QtTest>
#include <atomic>
#include <memory>

using namespace te;

namespace {

// Spins until the job is cancelled; false when that took longer than 10 s.
bool waitForCancel(const JobControl &job)
{
    QElapsedTimer clock;
    clock.start();
    while (!job.isCancelled()) {
        if (clock.elapsed() > 10000)
            return false;
        QThread::msleep(1);
    }
    return true;
}

// What a waiting job saw, shared between it and the test.
struct Seen {
    std::atomic<bool> cancelled{false};
    std::atomic<bool> finished{false};
};

} // namespace

class TestJobTracker : public QObject {
    Q_OBJECT
private slots:
    void cleanup()
    {
        QVERIFY(QThreadPool::globalInstance()->waitForDone(20000));
        QCoreApplication::processEvents(); // the results of finished jobs, if any were to come
    }

    void deliversOnTheTrackersThread()
    {
        JobTracker tracker;
        std::atomic<QThread *> workedOn{nullptr};
        QThread *deliveredOn = nullptr;
        int result = 0;
        tracker.start(
            [&workedOn](const JobControl &) {
                workedOn = QThread::currentThread();
                return 42;
            },
            [&](int r) {
                result = r;
                deliveredOn = QThread::currentThread();
            });
        QVERIFY(tracker.isRunning());
        QTRY_COMPARE(result, 42);
        QVERIFY(!tracker.isRunning());
        QCOMPARE(deliveredOn, QThread::currentThread());
        QVERIFY(workedOn.load() != nullptr);
        QVERIFY(workedOn.load() != QThread::currentThread());
    }

    void newerJobWins()
    {
        JobTracker tracker;
        auto first = std::make_shared<Seen>();
        QStringList delivered;
        tracker.start(
            [first](const JobControl &job) {
                first->cancelled = waitForCancel(job);
                first->finished = true;
                return QStringLiteral("first");
            },
            [&delivered](const QString &r) { delivered << r; });
        tracker.start([](const JobControl &) { return QStringLiteral("second"); },
                      [&delivered](const QString &r) { delivered << r; });
        QTRY_VERIFY(first->finished);
        QTRY_COMPARE(delivered, QStringList{QStringLiteral("second")});
        QVERIFY(first->cancelled); // the newer job told the older one to stop
        QTest::qWait(50);
        QCOMPARE(delivered, QStringList{QStringLiteral("second")});
        QVERIFY(!tracker.isRunning());
    }

    void cancelStillDelivers()
    {
        JobTracker tracker;
        int delivered = 0;
        bool sawCancel = false;
        tracker.start([](const JobControl &job) { return waitForCancel(job); },
                      [&](bool cancelled) {
                          ++delivered;
                          sawCancel = cancelled;
                      });
        tracker.cancel();
        QVERIFY(tracker.isRunning()); // until the job says it stopped
        QTRY_COMPARE(delivered, 1);
        QVERIFY(sawCancel);
        QVERIFY(!tracker.isRunning());
    }

    void discardDropsTheResult()
    {
        JobTracker tracker;
        auto seen = std::make_shared<Seen>();
        int delivered = 0;
        tracker.start(
            [seen](const JobControl &job) {
                seen->cancelled = waitForCancel(job);
                seen->finished = true;
                return 1;
            },
            [&delivered](int) { ++delivered; });
        tracker.discard();
        QVERIFY(!tracker.isRunning());
        QTRY_VERIFY(seen->finished);
        QVERIFY(seen->cancelled);
        QTest::qWait(50);
        QCOMPARE(delivered, 0);
    }

    // The owner goes while its job runs: the job is told to stop, and its result, which
    // would reach into the dead owner, never arrives.
    void ownerDestroyedWhileRunning()
    {
        auto *owner = new QObject;
        auto *tracker = new JobTracker(owner);
        auto seen = std::make_shared<Seen>();
        auto delivered = std::make_shared<int>(0);
        tracker->start(
            [seen](const JobControl &job) {
                seen->cancelled = waitForCancel(job);
                seen->finished = true;
                return 1;
            },
            [delivered](int) { ++*delivered; });
        delete owner;
        QTRY_VERIFY(seen->finished);
        QVERIFY(seen->cancelled);
        QTest::qWait(50);
        QCOMPARE(*delivered, 0);
    }

    void progressOfTheLatestJobOnly()
    {
        JobTracker tracker;
        QStringList labels;
        auto record = [&labels](int percent, const QString &label) {
            labels << QStringLiteral("%1 %2").arg(label).arg(percent);
        };
        auto staleReported = std::make_shared<std::atomic<bool>>(false);
        tracker.start(
            [staleReported](const JobControl &job) {
                waitForCancel(job);
                job.setProgress(90, QStringLiteral("stale"));
                *staleReported = true;
                return 0;
            },
            [](int) {}, record);
        int done = 0;
        tracker.start(
            [staleReported](const JobControl &job) {
                while (!*staleReported)
                    QThread::msleep(1);
                job.setProgress(50, QStringLiteral("latest"));
                return 1;
            },
            [&done](int r) { done = r; }, record);
        QTRY_COMPARE(done, 1);
        QTest::qWait(50);
        // (The watcher also reports where a job starts: 0, without a label.)
        QVERIFY2(labels.contains(QStringLiteral("latest 50")), qPrintable(labels.join(QStringLiteral(", "))));
        QVERIFY2(!labels.join(QLatin1Char(',')).contains(QStringLiteral("stale")),
                 qPrintable(labels.join(QStringLiteral(", "))));
    }
};

QTEST_MAIN(TestJobTracker)
#include "tst_jobtracker.moc"
