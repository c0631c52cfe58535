#pragma once
// The stand-in Hugging Face Hub of the tests (tests/support/fakehub.py) as a child process
// on 127.0.0.1: started with the repositories it serves, asked for its counters, stopped
// when this object goes (the script exits when its stdin closes).
#include "tests/support/fixtureexpectations.h"

#include <QProcess>
#include <QString>
#include <QStringList>

#include <nlohmann/json.hpp>

namespace te::testing {

// One stand-in hub process; stops when destroyed (its stdin closes).
class FakeHub {
public:
    bool start(const QStringList &extra)
    {
        m_process.setProgram(QStringLiteral("/usr/bin/python3"));
        m_process.setArguments(QStringList{QStringLiteral(TE_SOURCE_DIR "/tests/support/fakehub.py")} + extra);
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        m_process.start();
        if (!m_process.waitForStarted(10000))
            return false;
        QByteArray line;
        while (!line.contains('\n') && m_process.waitForReadyRead(20000))
            line += m_process.readLine();
        if (!line.startsWith("PORT "))
            return false;
        m_port = line.mid(5).trimmed().toInt();
        return m_port > 0;
    }
    ~FakeHub()
    {
        m_process.closeWriteChannel();
        if (!m_process.waitForFinished(5000))
            m_process.kill();
        m_process.waitForFinished(2000);
    }
    QString endpoint() const { return QStringLiteral("http://127.0.0.1:%1").arg(m_port); }
    nlohmann::json get(const QString &path) const
    {
        const ProcessResult r = runProcess(QStringLiteral("curl"), {QStringLiteral("-s"), QStringLiteral("--noproxy"),
                                                                    QStringLiteral("*"), endpoint() + path});
        return nlohmann::json::parse(r.out.toStdString(), nullptr, false);
    }
    nlohmann::json stats() const { return get(QStringLiteral("/_stats")); }
    void reset() const { get(QStringLiteral("/_reset")); }

private:
    QProcess m_process;
    int m_port = 0;
};

} // namespace te::testing
