#include "widgets/jobtracker.h"

namespace te {

JobTracker::JobTracker(QObject *parent)
    : QObject(parent)
{ }

// The watchers are children: they go with the tracker, and no result is delivered after.
JobTracker::~JobTracker() { cancel(); }

void JobTracker::cancel()
{
    if (m_cancel)
        m_cancel->store(true);
}

void JobTracker::discard()
{
    cancel();
    ++m_generation;
    m_running = false;
}

quint64 JobTracker::begin()
{
    discard();
    m_cancel = std::make_shared<std::atomic<bool>>(false);
    m_running = true;
    return m_generation;
}

} // namespace te
