import AIOSCtl

@main
enum Entrypoint {
    static func main() {
        AIOSCtlCommand.runAsMain()
    }
}
