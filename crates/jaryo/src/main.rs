fn main() -> std::process::ExitCode {
    jaryo::run()
}
