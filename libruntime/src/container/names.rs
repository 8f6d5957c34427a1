//! Names for containers the user did not name, in docker's adjective_noun style.

const ADJECTIVES: &[&str] = &[
    "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry",
    "nimble", "proud", "quick", "quiet", "sharp", "silly", "sleepy", "steady", "swift", "tender",
    "upbeat", "vivid", "witty", "zealous", "bold", "clever", "dreamy", "frosty", "lively", "noble",
];
const NOUNS: &[&str] = &[
    "albatross",
    "beacon",
    "cutter",
    "dinghy",
    "estuary",
    "fjord",
    "galley",
    "harbor",
    "island",
    "jetty",
    "keel",
    "lagoon",
    "mast",
    "narrows",
    "oar",
    "pier",
    "quay",
    "rudder",
    "schooner",
    "tide",
    "undertow",
    "voyage",
    "wharf",
    "yawl",
    "anchor",
    "buoy",
    "current",
    "delta",
    "eddy",
    "ferry",
];

/// A name not in `taken`, picked from `seed` (random bits) and widened with a number
/// if every plain pair is used.
pub fn generate(seed: u64, taken: &dyn Fn(&str) -> bool) -> String {
    let mut s = seed;
    for round in 0.. {
        let a = ADJECTIVES[(s % ADJECTIVES.len() as u64) as usize];
        let n = NOUNS[((s >> 16) % NOUNS.len() as u64) as usize];
        let name = if round < 8 {
            format!("{a}_{n}")
        } else {
            format!("{a}_{n}{round}")
        };
        if !taken(&name) {
            return name;
        }
        s = s
            .rotate_left(7)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(1);
    }
    unreachable!()
}
