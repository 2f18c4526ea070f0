import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole-file lock (flock(2)) on an index's `data.mdb`, which lets `compact` and `repair`
/// replace that file safely.
///
/// LMDB itself has no way to say "nobody has this environment open": its lock file tracks
/// readers, not processes that merely hold the map. So every `CodeIndex` holds a shared lock on
/// the data file's inode for as long as it is open, and replacing the file takes an exclusive
/// lock without waiting: it fails at once while any process (this one included) has the index
/// open. An opener that waited out a replacement finds that the path now names another inode
/// and locks again. The lock is advisory: processes of builds older than this one do not take
/// it (docs/RELIABILITY.md). flock and LMDB's fcntl locks on `lock.mdb` do not interact, and a
/// read-only descriptor can hold either kind, so read-only indexes lock too.
final class IndexLock: @unchecked Sendable {
    private let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// The shared lock that every open index holds; waits while a `compact` or `repair` runs.
    /// Nil when the file cannot be opened (LMDB's open then reports why).
    static func shared(path: String) -> IndexLock? {
        let file = path + "/data.mdb"
        while true {
            let fd = open(file, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            var result: Int32
            repeat { result = flock(fd, LOCK_SH) } while result != 0 && errno == EINTR
            if result != 0 { close(fd); return nil }  // no flock here (some network filesystems): go on unlocked
            if sameFile(fd, file) { return IndexLock(fd: fd) }
            close(fd)  // replaced while we waited: lock the new file
        }
    }

    /// The exclusive lock that replacing the data file needs; nil (at once) while any other
    /// holder, in this process or another, has the index open.
    static func exclusive(path: String) throws -> IndexLock? {
        let file = path + "/data.mdb"
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw IndexError.permissionDenied(path: path, operation: "open data.mdb to lock it") }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0, sameFile(fd, file) else { close(fd); return nil }
        return IndexLock(fd: fd)
    }

    /// Whether the open descriptor and the path name the same inode.
    private static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var a = stat(), b = stat()
        guard fstat(fd, &a) == 0, stat(path, &b) == 0 else { return false }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}
