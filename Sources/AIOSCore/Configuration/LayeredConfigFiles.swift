/// A configuration file and its drop-in directory (`FILE.d/`), read in the order their contents apply:
/// the file, then the drop-ins that `order` selects, in the order it returns them. Missing files are skipped;
/// only regular files in the directory count.
public enum LayeredConfigFiles {
    public static func read(mainPath: String, order: ([String]) -> [String]) throws(ConfigurationError) -> [(path: String, text: String)] {
        var files: [(path: String, text: String)] = []
        if let text = try readFile(mainPath) { files.append((mainPath, text)) }
        let directory = mainPath + ".d"
        for name in order(DirectoryEntries.names(in: directory)) {
            let path = "\(directory)/\(name)"
            guard DirectoryEntries.isRegularFile(path) else { continue }
            if let text = try readFile(path) { files.append((path, text)) }
        }
        return files
    }

    private static func readFile(_ path: String) throws(ConfigurationError) -> String? {
        do {
            return try SecureFileReader.readIfPresent(path: path, maximumBytes: 1 << 20)
        } catch {
            throw ConfigurationError(file: path, message: error.description)
        }
    }
}
