#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sluice_wire::fuzz::moqt_datagram(data));
