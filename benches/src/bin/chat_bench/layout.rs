//! Who is in which room and which stream carries what.
//!
//! Subscriber `k` (0 ≤ k < subscribers) is one membership: user `k mod users` in room
//! `⌊k × rooms ÷ subscribers⌋`. A room's subscribers are consecutive, so its members are
//! distinct users (there are at least as many users as members per room), room sizes
//! differ by at most one, and each user is in at most ⌈subscribers ÷ users⌉ rooms and
//! holds that many streams. With room streams a message reaches its room's members; with
//! user streams it reaches every stream of every member, each of which carries all of that
//! user's rooms.

use crate::args::StreamKind;

#[derive(Debug)]
pub(crate) struct Layout {
    pub subscribers: usize,
    pub users: usize,
    pub kind: StreamKind,
    /// Each room's members (user indices), the creator first.
    pub members: Vec<Vec<usize>>,
    /// Each user's rooms (room indices), one per stream the user holds.
    pub user_rooms: Vec<Vec<usize>>,
    /// Streams each message of a room must reach.
    pub receivers: Vec<u32>,
}

impl Layout {
    pub(crate) fn new(subscribers: usize, rooms: usize, users: usize, kind: StreamKind) -> Self {
        assert!(rooms >= 1 && rooms <= subscribers && users >= 1);
        let mut members = vec![Vec::new(); rooms];
        let mut user_rooms = vec![Vec::new(); users];
        for k in 0..subscribers {
            let (user, room) = (k % users, k * rooms / subscribers);
            members[room].push(user);
            user_rooms[user].push(room);
        }
        let receivers = members
            .iter()
            .map(|room| match kind {
                StreamKind::Room => room.len() as u32,
                StreamKind::User => room.iter().map(|&u| user_rooms[u].len() as u32).sum(),
            })
            .collect();
        Self {
            subscribers,
            users,
            kind,
            members,
            user_rooms,
            receivers,
        }
    }

    /// The user and room of subscriber `k`: its stream is the room's (room streams) or the
    /// user's (user streams).
    pub(crate) fn subscriber(&self, k: usize) -> (usize, usize) {
        (k % self.users, k * self.members.len() / self.subscribers)
    }

    /// The rooms whose messages subscriber `k`'s stream carries.
    pub(crate) fn carried(&self, k: usize) -> Vec<usize> {
        let (user, room) = self.subscriber(k);
        match self.kind {
            StreamKind::Room => vec![room],
            StreamKind::User => self.user_rooms[user].clone(),
        }
    }

    /// The member who sends message `n` of room `room` (its `n`-th turn): the members take
    /// turns.
    pub(crate) fn sender(&self, room: usize, turn: u64) -> usize {
        let members = &self.members[room];
        members[(turn % members.len() as u64) as usize]
    }

    pub(crate) fn max_streams_per_user(&self) -> usize {
        self.user_rooms.iter().map(Vec::len).max().unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_hold_distinct_members_in_even_numbers() {
        let layout = Layout::new(200, 20, 20, StreamKind::Room);
        for members in &layout.members {
            assert_eq!(members.len(), 10);
            let mut distinct = members.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert_eq!(distinct.len(), 10, "{members:?}");
        }
        assert!(layout.user_rooms.iter().all(|rooms| rooms.len() == 10));
        assert_eq!(layout.receivers.iter().sum::<u32>(), 200);
        for k in 0..200 {
            let (user, room) = layout.subscriber(k);
            assert!(layout.members[room].contains(&user));
            assert_eq!(layout.carried(k), vec![room]);
        }

        let uneven = Layout::new(105, 10, 11, StreamKind::Room);
        let sizes: Vec<usize> = uneven.members.iter().map(Vec::len).collect();
        assert!(sizes.iter().all(|&s| s == 10 || s == 11), "{sizes:?}");
        assert_eq!(sizes.iter().sum::<usize>(), 105);
        assert!(uneven.max_streams_per_user() <= 10);
    }

    #[test]
    fn user_streams_carry_all_of_their_users_rooms() {
        let layout = Layout::new(200, 20, 20, StreamKind::User);
        // Ten members, each holding ten streams that all carry the room.
        assert!(layout.receivers.iter().all(|&r| r == 100));
        let (user, _) = layout.subscriber(7);
        assert_eq!(layout.carried(7), layout.user_rooms[user]);
    }

    #[test]
    fn members_take_turns_sending() {
        let layout = Layout::new(200, 20, 20, StreamKind::Room);
        let senders: Vec<usize> = (0..10).map(|turn| layout.sender(3, turn)).collect();
        assert_eq!(senders, layout.members[3]);
    }
}
