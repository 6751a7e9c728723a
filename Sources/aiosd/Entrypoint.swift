import AIOSDaemon

@main
enum Entrypoint {
    static func main() async {
        await DaemonCommand.main()
    }
}
