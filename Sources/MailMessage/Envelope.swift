/// The envelope fields IMAP reports for a message (RFC 9051 7.5.2, FETCH ENVELOPE), parsed from
/// the header. This is the data, not the IMAP encoding: defaulting Sender and Reply-To to From and
/// representing groups as start/end markers are left to the encoder.
public struct Envelope: Sendable, Equatable {
    /// The Date field as written (unfolded), and parsed when possible.
    public var date: String?
    public var parsedDate: MessageDate?
    /// The Subject field as written (unfolded, encoded words intact) and decoded.
    public var subject: String?
    public var decodedSubject: String?
    public var from: [AddressListItem]
    public var sender: [AddressListItem]
    public var replyTo: [AddressListItem]
    public var to: [AddressListItem]
    public var cc: [AddressListItem]
    public var bcc: [AddressListItem]
    /// In-Reply-To and Message-ID as written (unfolded).
    public var inReplyTo: String?
    public var messageID: String?

    public init(header: Header) {
        self.date = header.first("date")
        self.parsedDate = self.date.flatMap { MessageDate(parsing: $0) }
        self.subject = header.first("subject")
        self.decodedSubject = self.subject.map { EncodedWords.decode($0) }
        func list(_ name: String) -> [AddressListItem] {
            header.first(name).map { AddressList.parse($0) } ?? []
        }
        self.from = list("from")
        self.sender = list("sender")
        self.replyTo = list("reply-to")
        self.to = list("to")
        self.cc = list("cc")
        self.bcc = list("bcc")
        self.inReplyTo = header.first("in-reply-to")
        self.messageID = header.first("message-id")
    }
}

/// The body structure IMAP reports (RFC 9051 7.5.2, BODYSTRUCTURE), as values.
public indirect enum BodyStructure: Sendable, Equatable {
    case single(SinglePart)
    case multipart(Multipart)

    public struct SinglePart: Sendable, Equatable {
        public var type: String
        public var subtype: String
        public var parameters: [Parameter]
        public var id: String?
        public var description: String?
        /// Content-Transfer-Encoding, lower case.
        public var encoding: String
        /// Body size in octets, as transmitted (undecoded).
        public var size: Int
        /// For text/* and message/rfc822: the body's line count.
        public var lines: Int?
        /// For message/rfc822 (and message/global): the encapsulated message's envelope and structure.
        public var envelope: Envelope?
        public var body: BodyStructure?
        // Extension data.
        public var md5: String?
        public var disposition: Disposition?
        public var languages: [String]
        public var location: String?
    }

    public struct Multipart: Sendable, Equatable {
        public var parts: [BodyStructure]
        public var subtype: String
        // Extension data.
        public var parameters: [Parameter]
        public var disposition: Disposition?
        public var languages: [String]
        public var location: String?
    }

    public struct Parameter: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Disposition: Sendable, Equatable {
        public var type: String
        public var parameters: [Parameter]

        public init(type: String, parameters: [Parameter]) {
            self.type = type
            self.parameters = parameters
        }
    }

    public init<P: MIMEPartShape>(_ part: P) {
        let params = part.contentType.parameters.map { Parameter(name: $0.name, value: $0.value) }
        let disposition = part.disposition.map {
            Disposition(type: $0.type, parameters: $0.parameters.map { Parameter(name: $0.name, value: $0.value) })
        }
        if part.contentType.type == "multipart" && !part.childParts.isEmpty {
            self = .multipart(
                Multipart(
                    parts: part.childParts.map { BodyStructure($0) },
                    subtype: part.contentType.subtype,
                    parameters: params,
                    disposition: disposition,
                    languages: part.languages,
                    location: part.contentLocation
                )
            )
            return
        }
        var single = SinglePart(
            type: part.contentType.type,
            subtype: part.contentType.subtype,
            parameters: params,
            id: part.contentID,
            description: part.contentDescription,
            encoding: part.transferEncoding,
            size: part.bodySize,
            lines: nil,
            envelope: nil,
            body: nil,
            md5: part.contentMD5,
            disposition: disposition,
            languages: part.languages,
            location: part.contentLocation
        )
        if part.contentType.type == "text" {
            single.lines = part.bodyLines
        }
        if let m = part.encapsulatedMessage {
            single.lines = part.bodyLines
            single.envelope = Envelope(header: m.header)
            single.body = BodyStructure(m)
        }
        self = .single(single)
    }
}

/// What IMAP's body structure needs of a MIME part: implemented by the in-memory parser's `Part`
/// and the streaming parser's `PartOutline`, so both give the same BODYSTRUCTURE.
public protocol MIMEPartShape {
    var header: Header { get }
    var contentType: ContentType { get }
    var transferEncoding: String { get }
    var contentID: String? { get }
    var contentDescription: String? { get }
    var contentMD5: String? { get }
    var contentLocation: String? { get }
    var disposition: ContentDisposition? { get }
    var languages: [String] { get }
    var bodySize: Int { get }
    var bodyLines: Int { get }
    /// The parts of a multipart, in order.
    var childParts: [Self] { get }
    /// The message inside a message/rfc822 or message/global part.
    var encapsulatedMessage: Self? { get }
}

extension Part: MIMEPartShape {
    public var childParts: [Part] { self.parts }
    public var encapsulatedMessage: Part? { self.message }
}
