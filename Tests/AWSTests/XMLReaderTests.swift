import Testing
@testable import AWS

@Suite struct XMLReaderTests {
    @Test func readsElementsTextEntitiesAndCDATA() throws {
        let xml = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- comment -->
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>bucket</Name>
          <Contents><Key>a &amp; b &lt;c&gt; &#x263A;&#65;</Key><Size>12</Size></Contents>
          <Contents><Key><![CDATA[<raw>&]]></Key><Size>3</Size></Contents>
          <Empty/>
          <s3:Prefixed s3:attr='v'>x</s3:Prefixed>
        </ListBucketResult>
        """
        let root = try AWSXMLElement.parse(xml)
        #expect(root.name == "ListBucketResult")
        #expect(root.string("Name") == "bucket")
        #expect(root.children("Contents").map { $0.string("Key") } == ["a & b <c> ☺A", "<raw>&"])
        #expect(root.child("Empty")?.text == "")
        #expect(root.child("Prefixed")?.attributes["attr"] == "v")
        #expect(root.first(named: "Size")?.text == "12")
    }

    @Test(arguments: ["<a><b></a>", "<a>", "<a>&bogus;</a>", "<a></a><b/>", "", "<a x=1/>"])
    func rejectsMalformedXML(_ text: String) {
        #expect(throws: AWSXMLError.self) { try AWSXMLElement.parse(text) }
    }

    @Test func parsesAWSErrorBodies() {
        let query = AWSErrorParser.parse(operation: "STS.GetCallerIdentity", status: 403, headers: [:], body: Data("""
        <ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message></Error><RequestId>abc-123</RequestId></ErrorResponse>
        """.utf8))
        #expect(query.code == "ExpiredToken")
        #expect(query.requestID == "abc-123")
        #expect(query.description.contains("expired") && query.description.contains("refresh"))
        let json = AWSErrorParser.parse(operation: "ECR.DescribeRepositories", status: 400, headers: [:], body: Data("""
        {"__type":"com.amazonaws.ecr#RepositoryNotFoundException","message":"The repository does not exist"}
        """.utf8))
        #expect(json.code == "RepositoryNotFoundException")
        #expect(json.message == "The repository does not exist")
        let head = AWSErrorParser.parse(operation: "S3.HeadObject", status: 404, headers: [:], body: Data())
        #expect(head.code == "NotFound")
        for code in ["AccessDenied", "InvalidClientTokenId", "SignatureDoesNotMatch", "ExpiredToken"] {
            #expect(AWSServiceError(operation: "X.Y", status: 403, code: code, message: "", requestID: nil).hint != nil)
        }
    }
}
import Foundation
