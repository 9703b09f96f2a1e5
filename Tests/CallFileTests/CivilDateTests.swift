import CallFile
import Testing

@Suite("Civil dates: days since 1970-01-01 and back")
struct CivilDateTests {
    @Test("Known dates, before and after the epoch, leap days and century years")
    func knownDates() {
        let known: [(Int64, Int64, Int64, Int64)] = [
            (1970, 1, 1, 0), (1969, 12, 31, -1), (2000, 2, 29, 11_016), (2000, 3, 1, 11_017), (1900, 3, 1, -25_508),
            (2026, 12, 7, 20_794), (1600, 1, 1, -135_140), (-1, 12, 31, -719_529),
        ]
        for (year, month, day, days) in known {
            #expect(CivilDate(year: year, month: month, day: day).daysSinceEpoch == days, "\(year)-\(month)-\(day)")
            #expect(CivilDate(daysSinceEpoch: days) == CivilDate(year: year, month: month, day: day), "day \(days)")
        }
    }

    @Test("Every day of 1,100 years maps to a valid date and back, one day after another")
    func roundTrip() {
        var previous = CivilDate(daysSinceEpoch: -200_001)
        for days: Int64 in -200_000...200_000 {
            let date = CivilDate(daysSinceEpoch: days)
            #expect(date.daysSinceEpoch == days)
            let next = date.day == 1
                ? (date.month == 1 ? previous.month == 12 && previous.year == date.year - 1 : previous.month == date.month - 1 && previous.year == date.year)
                    && previous.day == CivilDate.daysIn(month: previous.month, year: previous.year)
                : previous.year == date.year && previous.month == date.month && previous.day == date.day - 1
            if !next { Issue.record("\(previous) is not the day before \(date)"); return }
            previous = date
        }
    }

    @Test("Leap years, month lengths, weekdays, and the split of an instant before the epoch")
    func calendarFacts() {
        #expect(CivilDate.isLeapYear(2000) && CivilDate.isLeapYear(2024) && !CivilDate.isLeapYear(1900) && !CivilDate.isLeapYear(2026))
        #expect(CivilDate.daysIn(month: 2, year: 2024) == 29 && CivilDate.daysIn(month: 2, year: 2100) == 28)
        #expect(CivilDate.daysIn(month: 4, year: 2026) == 30 && CivilDate.daysIn(month: 12, year: 2026) == 31)
        #expect(CivilDate.weekday(ofDay: 0) == 4, "1970-01-01 was a Thursday")
        #expect(CivilDate.weekday(ofDay: 20_794) == 1, "2026-12-07 is a Monday")
        #expect(CivilDate.weekday(ofDay: -1) == 3)
        #expect(CivilDate.split(epochSeconds: -1) == (-1, 86_399))
        #expect(CivilDate.split(epochSeconds: 86_400) == (1, 0))
        #expect(CivilDate.floorDivide(-7, 2) == -4 && CivilDate.floorDivide(7, 2) == 3 && CivilDate.floorDivide(-8, 2) == -4)
    }
}
