"""pq_pages.py - a small reader of a Parquet file's page headers, for tests/suite_parquet.py: a
Thrift compact protocol decoder (generic: every struct becomes a dict of field id -> value) and a
walk over each column chunk's pages from its first page offset. A third reader, next to DuckDB and
hyparquet, to check what they do not show: how many pages of which kind, and their encodings."""
import struct


class Reader:
    def __init__(self, data, pos=0):
        self.data = data
        self.pos = pos

    def byte(self):
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self):
        shift = v = 0
        while True:
            b = self.byte()
            v |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return v

    def zigzag(self):
        v = self.varint()
        return (v >> 1) ^ -(v & 1)

    def value(self, t):
        if t in (1, 2):
            return t == 1
        if t == 3:
            return struct.unpack("b", bytes([self.byte()]))[0]
        if t in (4, 5, 6):
            return self.zigzag()
        if t == 7:
            self.pos += 8
            return struct.unpack("<d", self.data[self.pos - 8:self.pos])[0]
        if t == 8:
            n = self.varint()
            self.pos += n
            return bytes(self.data[self.pos - n:self.pos])
        if t in (9, 10):
            h = self.byte()
            n, et = h >> 4, h & 0x0F
            if n == 15:
                n = self.varint()
            return [self.list_elem(et) for _ in range(n)]
        if t == 12:
            return self.struct()
        raise ValueError("thrift type %d at %d" % (t, self.pos))

    def list_elem(self, t):
        if t in (1, 2):   # bools in lists are one byte each
            return self.byte() == 1
        return self.value(t)

    def struct(self):
        fields, last = {}, 0
        while True:
            h = self.byte()
            if h == 0:
                return fields
            t, delta = h & 0x0F, h >> 4
            fid = last + delta if delta else self.zigzag()
            fields[fid] = self.value(t)
            last = fid


def footer(data):
    """FileMetaData as nested dicts of field ids."""
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1", "no PAR1 at both ends"
    n = struct.unpack("<I", data[-8:-4])[0]
    r = Reader(data, len(data) - 8 - n)
    meta = r.struct()
    assert r.pos == len(data) - 8, "the footer's length does not match its bytes"
    return meta


def chunk_pages(data, column_meta):
    """The page headers of one column chunk (ColumnMetaData as a dict), in file order, walked from
    its first page until its num_values are all seen; also checks total_compressed_size."""
    start = column_meta.get(11, column_meta[9])
    r = Reader(data, start)
    pages, values = [], 0
    while values < column_meta[5]:
        h = r.struct()
        r.pos += h[3]
        pages.append(h)
        if h[1] == 0:
            values += h[5][1]
    assert r.pos - start == column_meta[7], "total_compressed_size %d, pages span %d" % (column_meta[7], r.pos - start)
    return pages
