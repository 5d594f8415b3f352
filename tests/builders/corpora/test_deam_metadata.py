from __future__ import annotations

from builders.corpora.deam_metadata import read_deam_metadata, read_deam_metadata_report


def test_reference_metadata_2015(reference_data):
    metadata = read_deam_metadata([reference_data / "deam" / "metadata_2015.csv"])
    assert len(metadata) == 58
    assert metadata["2001"] == ("Creepoid", "Old Tree")
    assert metadata["2022"][1].startswith("Mignon (Kennst du das Land)")


def test_reference_metadata_2015_row_2031_is_recovered_and_reported(reference_data):
    path = reference_data / "deam" / "metadata_2015.csv"
    report = read_deam_metadata_report([path])
    assert len(report.entries) == 58 and report.unreadable == ()
    assert report.entries["2031"] == ("No, Really", "Go")
    assert report.entries["2030"] == ("In Faded Glory", "990")  # genre tags follow the album
    assert report.entries["2058"] == ("La Verue", "Inside Views")
    assert [where for where, _ in report.recovered] == [f"{path}:32"]
    assert "song 2031" in report.recovered[0][1]
    assert list(report.entries) == sorted(report.entries, key=int)


def test_metadata_layouts_of_2013_and_2014(tmp_path):
    y2013 = tmp_path / "metadata_2013.csv"
    y2013.write_bytes(
        b"song_id\tfile_name\tArtist\tSong title\tstart of the segment (min.sec)\t"
        b"end of the segment (min.sec)\tGenre\r\n"
        b"2\t2.mp3\tThe  Artist\tSome Song \t0.50\t1.35\tBlues\r\n"
    )
    y2014 = tmp_path / "metadata_2014.csv"
    y2014.write_bytes(
        b"Id,Artist,Album,Track,Genre,start,end,last.fm labels\r\n"
        b"1001,Someone,An Album,A Track,Rock,0.1,0.46,calm,rain,sad\r\n"
    )
    metadata = read_deam_metadata([y2014, y2013])
    assert metadata == {"2": ("The Artist", "Some Song"), "1001": ("Someone", "A Track")}


def test_metadata_rows_that_cannot_be_read_are_reported(tmp_path):
    path = tmp_path / "metadata_2015.csv"
    path.write_bytes(
        b"id,Filename,title,artist,album,genre,\r\n"
        b"2001,X_Y,Night Owl,A Classic Education,n/a,Pop,\r\n"
        b"2002,only-two\r\n"
        b"2001,X_Y,Other,Other,n/a,Pop,\r\n"
        b"2003,Z,Hello, World,Band,n/a,folk,\r\n"
    )
    report = read_deam_metadata_report([path])
    assert report.entries == {
        "2001": ("A Classic Education", "Night Owl"),
        "2003": ("Band", "Hello, World"),
    }
    assert report.unreadable == (
        (f"{path}:3", "only 2 fields, no artist or title"),
        (f"{path}:4", "song 2001 again (kept its first line)"),
    )
    unknown = tmp_path / "metadata_other.csv"
    unknown.write_bytes(b"a,b,c\r\n1,2,3\r\n")
    assert (
        read_deam_metadata_report([unknown]).unreadable[0][1].startswith("no id, artist and title")
    )
