//! `mtu::fit` against an independent parser (etherparse): fragments that
//! reassemble to the original with valid checksums and only the copied
//! options after the first; ICMP and ICMPv6 errors that parse, checksum and
//! quote the packet; the cases where no error may be sent.

use etherparse::{Icmpv4Slice, Icmpv4Type, Icmpv6Slice, Icmpv6Type, Ipv4HeaderSlice};
use pptp_proto::mtu::{fit, Fit, MtuError};

const LOCAL4: [u8; 4] = [10, 0, 0, 1];

fn local() -> (core::net::Ipv4Addr, core::net::Ipv6Addr) {
    (LOCAL4.into(), "fe80::1".parse().unwrap())
}

/// An IPv4 UDP packet of `len` octets with `options` (padded) and flags.
fn ipv4(len: usize, options: &[u8], flags: u8) -> Vec<u8> {
    let ihl = 20 + options.len().div_ceil(4) * 4;
    let mut p: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
    p[0] = 0x40 | (ihl / 4) as u8;
    p[1] = 0;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[4..6].copy_from_slice(&0x1234u16.to_be_bytes());
    p[6] = flags;
    p[7] = 0;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&[10, 0, 0, 2]);
    p[16..20].copy_from_slice(&[192, 0, 2, 9]);
    p[20..ihl].fill(0);
    p[20..20 + options.len()].copy_from_slice(options);
    p[10..12].fill(0);
    p
}

#[test]
fn fragments_reassemble_with_valid_headers_and_only_copied_options_later() {
    // Loose source route (copied, 0x83, 7 octets) and record route (not
    // copied, 0x07, 7 octets).
    let options = [0x83, 7, 4, 1, 2, 3, 4, 0x07, 7, 4, 0, 0, 0, 0];
    for (len, mtu) in [
        (3000, 1396),
        (1500, 576),
        (1397, 1396),
        (65_000, 1400),
        (200, 68),
    ] {
        let packet = ipv4(len, &options, 0);
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        let mut reply = [0u8; 1280];
        let Ok(Fit::Fragments(mut fragments)) = fit(&packet, mtu, local(), &mut reply) else {
            panic!("{len} over {mtu}: not fragmented");
        };
        let mut data = vec![0u8; len - ihl];
        let mut covered = 0;
        let mut buf = vec![0u8; mtu];
        let mut k = 0;
        while let Some(n) = fragments.next_into(&mut buf).unwrap() {
            assert!(n <= mtu, "fragment of {n} over {mtu}");
            let f = &buf[..n];
            let h = Ipv4HeaderSlice::from_slice(f).expect("parses");
            let header = h.to_header();
            assert_eq!(header.calc_header_checksum(), header.header_checksum);
            assert_eq!(usize::from(h.total_len()), n);
            assert_eq!(h.identification(), 0x1234);
            let opts = h.options();
            if k == 0 {
                assert_eq!(opts, &packet[20..ihl]);
            } else {
                // The loose source route, padded; no record route.
                assert_eq!(opts, &[0x83, 7, 4, 1, 2, 3, 4, 0], "fragment {k}");
            }
            let offset = usize::from(h.fragments_offset().value()) * 8;
            let payload = &f[h.slice().len()..];
            data[offset..offset + payload.len()].copy_from_slice(payload);
            covered += payload.len();
            let last = covered == len - ihl;
            assert_eq!(h.more_fragments(), !last, "MF on fragment {k}");
            if !last {
                assert_eq!(payload.len() % 8, 0);
            }
            k += 1;
        }
        assert_eq!(covered, len - ihl);
        assert_eq!(data, packet[ihl..], "{len} over {mtu}: reassembly differs");
    }
}

#[test]
fn df_set_gets_fragmentation_needed_with_the_mtu() {
    let packet = ipv4(1500, &[], 0x40);
    let mut reply = [0u8; 1280];
    let Ok(Fit::Reply(n)) = fit(&packet, 1396, local(), &mut reply) else {
        panic!()
    };
    let r = &reply[..n];
    let h = Ipv4HeaderSlice::from_slice(r).unwrap();
    assert_eq!(h.to_header().calc_header_checksum(), h.header_checksum());
    assert_eq!(
        (h.source(), h.destination(), h.protocol().0),
        (LOCAL4, [10, 0, 0, 2], 1)
    );
    let icmp = Icmpv4Slice::from_slice(&r[20..]).unwrap();
    assert_eq!(
        icmp.icmp_type().calc_checksum(icmp.payload()),
        icmp.checksum()
    );
    let Icmpv4Type::DestinationUnreachable(d) = icmp.icmp_type() else {
        panic!()
    };
    assert_eq!(
        d,
        etherparse::icmpv4::DestUnreachableHeader::FragmentationNeeded { next_hop_mtu: 1396 }
    );
    assert_eq!(icmp.payload(), &packet[..28]);
}

#[test]
fn ipv6_gets_packet_too_big_quoting_what_fits_in_1280() {
    let mut p = vec![0u8; 1500];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&1460u16.to_be_bytes());
    p[6] = 17;
    p[7] = 64;
    p[8..24].copy_from_slice(
        &"2001:db8::2"
            .parse::<core::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p[24..40].copy_from_slice(
        &"2001:db8::9"
            .parse::<core::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    let mut reply = [0u8; 1280];
    let Ok(Fit::Reply(n)) = fit(&p, 1396, local(), &mut reply) else {
        panic!()
    };
    assert_eq!(n, 1280);
    let r = &reply[..n];
    let icmp = Icmpv6Slice::from_slice(&r[40..]).unwrap();
    let (mut src, mut dst) = ([0u8; 16], [0u8; 16]);
    src.copy_from_slice(&r[8..24]);
    dst.copy_from_slice(&r[24..40]);
    let expected = icmp
        .icmp_type()
        .calc_checksum(src, dst, icmp.payload())
        .unwrap();
    assert_eq!(expected, icmp.checksum());
    assert_eq!(icmp.icmp_type(), Icmpv6Type::PacketTooBig { mtu: 1396 });
    assert_eq!(dst, p[8..24]);
    assert_eq!(icmp.payload(), &p[..1280 - 48]);
}

#[test]
fn no_error_about_errors_later_fragments_or_multicast() {
    let mut reply = [0u8; 1280];
    // An ICMP error (type 3) with DF set.
    let mut p = ipv4(1500, &[], 0x40);
    p[9] = 1;
    p[20] = 3;
    assert!(matches!(fit(&p, 1396, local(), &mut reply), Ok(Fit::Drop)));
    // An echo request is not an error: it gets one.
    p[20] = 8;
    assert!(matches!(
        fit(&p, 1396, local(), &mut reply),
        Ok(Fit::Reply(_))
    ));
    // A later fragment with DF set (odd, but seen).
    let mut p = ipv4(1500, &[], 0x40);
    p[7] = 10;
    assert!(matches!(fit(&p, 1396, local(), &mut reply), Ok(Fit::Drop)));
    // A multicast source.
    let mut p = ipv4(1500, &[], 0x40);
    p[12] = 224;
    assert!(matches!(fit(&p, 1396, local(), &mut reply), Ok(Fit::Drop)));
}

#[test]
fn malformed_input_and_small_buffers_are_errors() {
    let mut reply = [0u8; 1280];
    assert_eq!(
        fit(&[], 1396, local(), &mut reply).unwrap_err(),
        MtuError::Malformed
    );
    assert_eq!(
        fit(&[0x45; 10], 1396, local(), &mut reply).unwrap_err(),
        MtuError::Malformed
    );
    let mut p = ipv4(1500, &[], 0);
    p[2..4].copy_from_slice(&2000u16.to_be_bytes()); // longer than the buffer
    assert_eq!(
        fit(&p, 1396, local(), &mut reply).unwrap_err(),
        MtuError::Malformed
    );
    let p = ipv4(1500, &[], 0);
    assert_eq!(
        fit(&p, 60, local(), &mut reply).unwrap_err(),
        MtuError::MtuTooSmall(60)
    );
    let Ok(Fit::Fragments(mut f)) = fit(&p, 1396, local(), &mut reply) else {
        panic!()
    };
    let err = f.next_into(&mut [0u8; 100]).unwrap_err();
    assert_eq!(err, MtuError::BufferTooSmall { required: 1396 });
    let p = ipv4(1500, &[], 0x40);
    let err = fit(&p, 1396, local(), &mut [0u8; 10]).unwrap_err();
    assert_eq!(err, MtuError::BufferTooSmall { required: 56 });
}
