import Courier

/// Errors of the SQLite layer, turned into ``CourierError``s at the public boundary.
enum SQLiteError: Error {
    case closed
}

extension CourierError.Code {
    /// The spool or store file cannot be opened, read or written.
    public static let storageFailure: CourierError.Code = "storage-failure"
}
