import AIOSDaemon
import Dispatch
import Glibc

@main
enum Entrypoint {
    /// Not `async main`: on Linux the Swift runtime gives the main thread's task user-initiated priority, which every
    /// task and child task inherits, and libdispatch starts a worker thread for such work at nice -2. Under
    /// aiosd.service (no CAP_SYS_NICE) each of those setpriority calls fails with EACCES and libdispatch logs "Failed to
    /// set thread priority ... errno=13". The daemon runs at the default priority instead (nice 0, allowed), on a
    /// detached task, while the main thread serves the main queue. It is the process's one root task (everything
    /// else is a child of the ServiceGroup it runs), awaited by nothing because it ends the process itself.
    static func main() {
        Task.detached(priority: .medium) {
            await DaemonCommand.main()
            exit(0)
        }
        dispatchMain()
    }
}
